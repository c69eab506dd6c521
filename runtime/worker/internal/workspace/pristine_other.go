//go:build !linux

package workspace

// emptied is false outside Linux: workspaces are not reused there.
func (ws *Workspace) emptied() bool { return false }

// inMemory is true outside Linux: workspaces are not reused there.
func inMemory(string) bool { return true }
