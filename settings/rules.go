package settings

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
)

var (
	// dns1123Label is RFC 1123 as Kubernetes applies it to names.
	dns1123Label = `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
	subdomainRe  = regexp.MustCompile(`^` + dns1123Label + `(\.` + dns1123Label + `)*$`)
	// stackNameRe is a DNS-1035 label: Service names must start with a letter, and the stack
	// name starts every Service name.
	stackNameRe = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

	// quantityRe is the Kubernetes quantity grammar (signedNumber suffix) restricted to positive
	// values, since a volume cannot have a negative size. It stays a regexp because
	// k8s.io/apimachinery would pull a large module graph into the program for one function.
	quantityRe = regexp.MustCompile(`^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$`)

	// registryRe is host[:port] followed by repository path components, as the Docker
	// reference grammar allows them.
	hostComponent = `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`
	pathComponent = `[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*`
	registryRe    = regexp.MustCompile(`^` + hostComponent + `(\.` + hostComponent + `)*(:[0-9]{1,5})?(/` + pathComponent + `)*$`)
	tagRe         = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$`)
	imageRe       = regexp.MustCompile(`^` + hostComponent + `(\.` + hostComponent + `)*(:[0-9]{1,5})?(/` + pathComponent + `)+:[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

	// networkRe is a Docker network name; default, host and none are the built-in modes.
	networkRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$`)

	stackRefRe = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,2}$`)
)

const maxStackName = 40

func checkStackName(stack string) error {
	if len(stack) > maxStackName || !stackNameRe.MatchString(stack) {
		return fmt.Errorf("stack name %q is invalid: it prefixes every Kubernetes object name, so it must be "+
			"lowercase letters, digits and '-', start with a letter, end with a letter or digit, "+
			"and be at most %d characters; fix: pulumi stack init <name> with such a name (e.g. test, prod)",
			stack, maxStackName)
	}
	return nil
}

func checkHost(v string) error {
	if net.ParseIP(v) != nil || (len(v) <= 253 && subdomainRe.MatchString(v)) {
		return nil
	}
	return errors.New("must be a lowercase DNS name or an IP address, the host where the cluster's NodePorts are reached (e.g. localhost)")
}

func checkStorageClass(v string) error {
	if len(v) <= 253 && subdomainRe.MatchString(v) {
		return nil
	}
	return errors.New("must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters")
}

func checkQuantity(v string) error {
	// The number must have a non-zero digit: a zero-sized volume is no volume.
	if m := quantityRe.FindStringSubmatch(v); m != nil && strings.Trim(m[1], "0.") != "" {
		return nil
	}
	return errors.New("must be a positive Kubernetes quantity such as 1Gi, 500Mi or 5G")
}

func checkPullPolicy(v string) error {
	switch v {
	case "Always", "IfNotPresent", "Never":
		return nil
	}
	return errors.New("must be one of Always, IfNotPresent, Never (the Kubernetes imagePullPolicy values, case-sensitive)")
}

func checkRegistry(v string) error {
	host, _, _ := strings.Cut(v, "/")
	explicitHost := strings.ContainsAny(host, ".:") || host == "localhost"
	if len(v) <= 200 && registryRe.MatchString(v) && explicitHost {
		return nil
	}
	return errors.New("must be a registry server with an optional lowercase repository prefix, " +
		"like localhost:5000/jobs or registry.example.com/team (no scheme, no trailing '/', no tag)")
}

func checkRedisImage(v string) error {
	if imageRe.MatchString(v) && tagRe.MatchString(imageTag(v)) && imageTag(v) != "latest" {
		return nil
	}
	return errors.New("must be a full image reference with a fixed tag, like docker.io/library/redis:7.4.2 " +
		"(the tag becomes Redis's version label, so not latest and at most 63 characters)")
}

// imageTag returns the tag of a reference that has passed checkRedisImage.
func imageTag(ref string) string {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ""
	}
	return ref[i+1:]
}

// checkUsername keeps the username usable in HTTP basic auth, where ':' ends the user part.
func checkUsername(v string) error {
	if strings.ContainsAny(v, ": \t\r\n") {
		return errors.New("must not contain ':' or whitespace (it is sent as HTTP basic auth user)")
	}
	return nil
}

func checkStackRef(v string) error {
	if stackRefRe.MatchString(v) {
		return nil
	}
	return errors.New("must be the stack reference of the test stack, like organization/jobs/test")
}

func checkBuildNetwork(v string) error {
	if networkRe.MatchString(v) {
		return nil
	}
	return errors.New("must be host, default (the engine's default network), none, or the name of a Docker network " +
		"(letters, digits, '_', '.', '-'); it is the network the image builds' RUN steps use")
}

// platforms are the OS/architectures the images can be built for: the app is static Go for
// Linux, cross-compiled for the target (app/Dockerfile), so any GOARCH Go builds for Linux that
// Kubernetes nodes run.
var platforms = []string{"linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6", "linux/386", "linux/ppc64le", "linux/s390x", "linux/riscv64"}

func checkPlatform(v string) error {
	if slices.Contains(platforms, v) {
		return nil
	}
	return fmt.Errorf("must be the OS/architecture of the cluster's nodes (kubectl get nodes -L kubernetes.io/arch), one of %s", strings.Join(platforms, ", "))
}
