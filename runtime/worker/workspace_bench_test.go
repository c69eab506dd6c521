package worker

import "testing"

// BenchmarkWorkspace makes and removes a chunk's workspace: what every
// chunk pays before and after its command, assets aside.
func BenchmarkWorkspace(b *testing.B) {
	root := b.TempDir()
	for b.Loop() {
		ws, err := newWorkspace(root, "bench", 7)
		if err != nil {
			b.Fatal(err)
		}
		if err := ws.remove(); err != nil {
			b.Fatal(err)
		}
	}
}
