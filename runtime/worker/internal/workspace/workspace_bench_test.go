package workspace

import "testing"

// BenchmarkWorkspace makes and removes a chunk's workspace: what every
// chunk pays before and after its command, assets aside.
func BenchmarkWorkspace(b *testing.B) {
	root := b.TempDir()
	for b.Loop() {
		ws, err := New(root, "bench", 7)
		if err != nil {
			b.Fatal(err)
		}
		if err := ws.Remove(); err != nil {
			b.Fatal(err)
		}
	}
}
