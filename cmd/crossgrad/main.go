// Command crossgrad trains AlexNet on Fashion-MNIST on any OpenCL or Vulkan
// device, lists devices, checks them against the reference backend, tunes
// their tiled kernels and benchmarks them.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
)

// version is crossgrad's version, set at link time with
// -ldflags "-X main.version=v1.2.3" (make gpu-bundle sets git describe's
// answer); empty means a development build (see versionString).
var version = ""

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "crossgrad:", err)
		os.Exit(1)
	}
}

// versionString is what `crossgrad --version` prints and bench reports
// stamp: version (or "dev") and the commit the Go toolchain recorded when
// the binary was built from a git checkout.
func versionString() string {
	var settings []debug.BuildSetting
	if bi, ok := debug.ReadBuildInfo(); ok {
		settings = bi.Settings
	}
	return versionFrom(version, settings)
}

// versionFrom is versionString of a link-time version v and build settings:
// "v (commit REV[+dirty], TIME)", with REV the first 12 digits of
// vcs.revision, "+dirty" for vcs.modified and TIME vcs.time. Without a
// recorded revision it is v alone, or for a development build "dev (commit
// unknown: ...)".
func versionFrom(v string, settings []debug.BuildSetting) string {
	var rev, when, dirty string
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		if v != "" {
			return v
		}
		return "dev (commit unknown: built with -buildvcs=false or outside git, and without -X main.version)"
	}
	if v == "" {
		v = "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	s := v + " (commit " + rev + dirty
	if when != "" {
		s += ", " + when
	}
	return s + ")"
}
