package cmd

import "runtime/debug"

// BuildInfo describes the binary; the release build fills it in through -ldflags.
type BuildInfo struct {
	Version string
	Commit  string
	Date    string
}

// withBuildSettings fills what the release build's -ldflags did not set from the build
// information the Go toolchain embeds: the module version of "go install …@v1.2.3", and the
// VCS revision and commit time of a build in a git checkout.
func (b BuildInfo) withBuildSettings(info *debug.BuildInfo) BuildInfo {
	if info == nil {
		return b
	}
	if (b.Version == "" || b.Version == "dev") && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && b.Commit == "":
			b.Commit = s.Value
		case s.Key == "vcs.time" && b.Date == "":
			b.Date = s.Value
		}
	}
	return b
}
