package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fakeDebootstrap builds a two-file "rootfs" and, as the real one does when its final unmount
// fails, leaves the host's /proc mounted inside it.
const fakeDebootstrap = `#!/bin/bash
set -e
target=$3
mkdir -p "$target/proc" "$target/etc"
echo 'ID=debian' >"$target/etc/os-release"
mount -t proc proc "$target/proc"
`

// fakeDocker has no image yet and accepts the import.
const fakeDocker = `#!/bin/bash
case $1 in
image) exit 1 ;;
import) exit 0 ;;
esac
exit 2
`

// TestBaseImageUnmountsWhatDebootstrapLeft runs scripts/base-image.sh with a debootstrap that
// leaves /proc mounted in the rootfs: the script must unmount it before it archives the rootfs
// (or tar reads the host's /proc) and before it removes the folder, and leave no mount behind.
func TestBaseImageUnmountsWhatDebootstrapLeft(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("base-image.sh runs debootstrap as root, and this test mounts /proc: run it as root")
	}
	bin := t.TempDir()
	goroot := t.TempDir()
	cache := filepath.Join(t.TempDir(), "cache")
	writeFiles(t, map[string]string{
		filepath.Join(bin, "debootstrap"): fakeDebootstrap,
		filepath.Join(bin, "docker"):      fakeDocker,
	})
	fakeGoroot(t, goroot)
	// Whatever the script does, the test's own mounts go: only those under its temp folder.
	t.Cleanup(func() {
		left := mountsUnder(t, cache)
		for i := len(left) - 1; i >= 0; i-- {
			if err := syscall.Unmount(left[i], syscall.MNT_DETACH); err != nil {
				t.Errorf("unmount %s: %v", left[i], err)
			}
		}
	})
	env := baseImageEnv(t, bin, cache, goroot)
	code, out := run(t, env, "", "scripts/base-image.sh")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, "/rootfs/proc, left mounted by debootstrap") {
		t.Errorf("output does not say what it unmounted:\n%s", out)
	}
	if left := mountsUnder(t, cache); len(left) > 0 {
		t.Errorf("still mounted after base-image.sh: %v", left)
	}
	if left, _ := filepath.Glob(filepath.Join(cache, "rootfs.*")); len(left) > 0 {
		t.Errorf("the temporary rootfs is still there: %v", left)
	}
	list, err := exec.Command("tar", "-tf", filepath.Join(cache, "bookworm-minbase.tar")).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		if strings.HasPrefix(entry, "./proc/") && entry != "./proc/" {
			t.Fatalf("the rootfs tarball holds the host's /proc (%s)", entry)
		}
	}
	if !strings.Contains(string(list), "./etc/os-release") {
		t.Errorf("the rootfs tarball lacks the rootfs's own files:\n%s", list)
	}
}

// TestBaseImageFetchesFromAptsMirror runs scripts/base-image.sh with an apt that names a local
// mirror and a proxy: debootstrap must be pointed at that mirror and see that proxy (a machine
// behind them reaches nothing else), and DEBIAN_MIRROR must still win when it is set.
func TestBaseImageFetchesFromAptsMirror(t *testing.T) {
	const mirror, proxy = "http://mirror.internal.example/debian", "http://proxy.internal.example:3128/"
	for _, tc := range []struct {
		name, override, want string
	}{
		{"apt's mirror", "", mirror},
		{"DEBIAN_MIRROR wins", "http://other.example/debian", "http://other.example/debian"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := t.TempDir()
			goroot := t.TempDir()
			cache := filepath.Join(t.TempDir(), "cache")
			record := filepath.Join(t.TempDir(), "debootstrap-args")
			writeFiles(t, map[string]string{
				// apt lists its bookworm Packages index only when asked for it by release.
				filepath.Join(bin, "apt-get"): `#!/bin/bash
[[ $1 == indextargets && " $* " == *" Release: bookworm "* ]] || exit 1
echo '` + mirror + `/'
echo 'http://security.internal.example/debian-security/'
`,
				filepath.Join(bin, "apt-config"): "#!/bin/bash\n[[ $1 == shell && $3 == Acquire::http::Proxy ]] && echo \"$2='" + proxy + "'\"\n",
				filepath.Join(bin, "debootstrap"): `#!/bin/bash
echo "$4 ${http_proxy:-no proxy}" >` + record + `
mkdir -p "$3/etc" && echo 'ID=debian' >"$3/etc/os-release"
`,
				filepath.Join(bin, "docker"): fakeDocker,
			})
			fakeGoroot(t, goroot)
			env := baseImageEnv(t, bin, cache, goroot)
			if tc.override != "" {
				env = append(env, "DEBIAN_MIRROR="+tc.override)
			}
			if code, out := run(t, env, "", "scripts/base-image.sh"); code != 0 {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			got, err := os.ReadFile(record)
			if err != nil {
				t.Fatalf("debootstrap did not run: %v", err)
			}
			if want := tc.want + " " + proxy + "\n"; string(got) != want {
				t.Errorf("debootstrap got mirror and proxy %q, want %q", got, want)
			}
		})
	}
}

// writeFiles writes each file (executable, its folder made first).
func writeFiles(t *testing.T, files map[string]string) {
	t.Helper()
	for path, body := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeGoroot is a stand-in Go 1.26 toolchain for base-image.sh to copy into the golang image.
func fakeGoroot(t *testing.T, goroot string) {
	writeFiles(t, map[string]string{
		filepath.Join(goroot, "bin", "go"):    "#!/bin/bash\necho go1.26.0\n",
		filepath.Join(goroot, "src", "x.txt"): "a stand-in toolchain\n",
	})
}

// baseImageEnv runs base-image.sh with the stand-ins of bin first on PATH, an engine that is
// never reached, and caches under the test's own folders.
func baseImageEnv(t *testing.T, bin, cache, goroot string) []string {
	return []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "DOCKER_HOST=unix:///nonexistent.sock",
		"JOBS_BASE_CACHE=" + cache, "GOROOT_FOR_IMAGE=" + goroot, "TMPDIR=" + t.TempDir()}
}
