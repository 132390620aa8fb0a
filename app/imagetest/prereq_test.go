package imagetest

import (
	"errors"
	"strings"
	"testing"
)

func lookPathWithout(absent ...string) func(string) (string, error) {
	return func(name string) (string, error) {
		for _, a := range absent {
			if name == a {
				return "", errors.New("not found")
			}
		}
		return "/usr/bin/" + name, nil
	}
}

func TestMissingTools(t *testing.T) {
	if err := MissingTools(lookPathWithout()); err != nil {
		t.Fatalf("all tools present: got error %v, want nil", err)
	}

	err := MissingTools(lookPathWithout("docker", "dockerd", "debootstrap", "redis-server"))
	if err == nil {
		t.Fatal("no tools present: got nil error")
	}
	msg := err.Error()
	for _, want := range []string{"docker, dockerd, debootstrap, redis-server", "apt-get install -y debootstrap docker.io redis-server"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}

	err = MissingTools(lookPathWithout("debootstrap"))
	if err == nil {
		t.Fatal("debootstrap absent: got nil error")
	}
	if msg := err.Error(); !strings.Contains(msg, "apt-get install -y debootstrap'") || strings.Contains(msg, "docker.io") {
		t.Errorf("debootstrap absent: error %q should ask for debootstrap only", msg)
	}
}
