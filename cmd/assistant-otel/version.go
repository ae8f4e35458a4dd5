package main

import "runtime/debug"

// stampedVersion is set at build time, as the container image does:
//
//	go build -ldflags "-X main.stampedVersion=1.4.0" ./cmd/assistant-otel
//
// It wins over the build information, which a build from a copied source
// tree (no .git, no module version) reports as "(devel)".
var stampedVersion string

// version reports the stamped version, else the module version and VCS
// revision the binary was built from.
func version() string {
	if stampedVersion != "" {
		return stampedVersion
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			v += "+dirty"
		}
	}
	return v
}
