package components

import (
	"fmt"
	"path/filepath"

	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/release"
	"github.com/example/jobs/settings"
)

// newImages returns, by component, the image references the Deployments run. It builds and
// pushes each image and returns its digest reference, so a Deployment changes exactly when an
// image's content does. With Build off it returns the tagged references of images someone else
// pushed. With promoted images it returns those and registers nothing: an image this
// environment did not build is not its resource to replace.
func newImages(ctx *pulumi.Context, env, version string, cfg settings.Images, appDir string, promoted release.Images, opts ...pulumi.ResourceOption) (map[string]pulumi.StringOutput, error) {
	out := map[string]pulumi.StringOutput{}
	for _, component := range release.Components {
		if promoted != nil {
			out[component] = pulumi.String(promoted[component]).ToStringOutput()
			continue
		}
		tagged := release.Tagged(cfg.Registry, component, version)
		if !cfg.Build {
			out[component] = pulumi.String(tagged).ToStringOutput()
			continue
		}
		build := &docker.DockerBuildArgs{
			Context:    pulumi.String(appDir),
			Dockerfile: pulumi.String(filepath.Join(appDir, "Dockerfile")),
			Target:     pulumi.String(component),
			Network:    pulumi.String(cfg.Network),
			Args:       pulumi.StringMap{"VERSION": pulumi.String(version)},
		}
		// The nodes' platform, not the building machine's: an image built on an arm64 laptop
		// for an amd64 cluster would not start there. (Unset, the provider picks the building
		// machine's and warns.)
		if cfg.Platform != "" {
			build.Platform = pulumi.String(cfg.Platform)
		}
		img, err := docker.NewImage(ctx, objectName(env, component+"-image"), &docker.ImageArgs{
			ImageName: pulumi.String(tagged),
			Build:     build,
			Registry:  registryLogin(cfg),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", tagged, err)
		}
		out[component] = img.RepoDigest
	}
	return out, nil
}

func appDir(dir string) string {
	if dir == "" {
		return "app"
	}
	return dir
}

// registryLogin is nil for a registry without credentials (a local one), which docker then
// pushes to anonymously.
func registryLogin(cfg settings.Images) docker.RegistryPtrInput {
	if cfg.Login == nil {
		return nil
	}
	return &docker.RegistryArgs{
		Server:   pulumi.String(cfg.Server),
		Username: pulumi.String(cfg.Login.Username),
		Password: secretString(cfg.Login.Password),
	}
}
