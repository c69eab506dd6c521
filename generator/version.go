package generator

import "runtime/debug"

// Devel is the version of a helios-scaffold built from its own source tree
// or from a replaced (local) copy of this module.
const Devel = "devel"

// Version returns the version of this module that the running binary was
// built from: the version required by the go.mod that runs it as a tool
// (go tool helios-scaffold) or named by go run or go install
// (helios-scaffold@v1.2.3), or [Devel] for a build from source or from a
// replaced module, whose version says nothing that go get could fetch.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Devel
	}
	return versionOf(bi)
}

func versionOf(bi *debug.BuildInfo) string {
	if bi.Main.Path == ModulePath {
		// go run or go install ModulePath@version builds the module
		// fetched, whose sum is recorded; a source tree has none.
		if bi.Main.Sum != "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		return Devel
	}
	for _, m := range bi.Deps {
		if m.Path == ModulePath {
			if m.Replace != nil || m.Version == "" || m.Version == "(devel)" {
				return Devel
			}
			return m.Version
		}
	}
	return Devel
}
