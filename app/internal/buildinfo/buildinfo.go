// Package buildinfo holds what the build stamps into the binaries.
package buildinfo

// Version is the release's semantic version. The image build sets it with
// -ldflags "-X github.com/example/jobs/app/internal/buildinfo.Version=$VERSION";
// the default marks a binary that did not go through a release build.
var Version = "0.0.0-dev"
