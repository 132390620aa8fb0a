package components

import (
	"fmt"
	"path/filepath"

	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ImageRefs are references to images that already exist in the registry, deployed as given.
type ImageRefs struct {
	API    string
	Worker string
}

// images are the references the Deployments run.
type images struct {
	api    pulumi.StringOutput
	worker pulumi.StringOutput
}

// newImages builds and pushes both images and returns their digest references, so a
// Deployment changes exactly when an image's content does. With Build off it returns the
// tagged references of images someone else has pushed. With Images set it returns those and
// registers nothing: an image this environment did not build is not its resource to replace.
func newImages(ctx *pulumi.Context, a *EnvironmentArgs, opts ...pulumi.ResourceOption) (images, error) {
	if a.Images != nil {
		return images{
			api:    pulumi.String(a.Images.API).ToStringOutput(),
			worker: pulumi.String(a.Images.Worker).ToStringOutput(),
		}, nil
	}
	var out images
	for _, target := range []struct {
		name string
		ref  *pulumi.StringOutput
	}{{componentAPI, &out.api}, {componentWorker, &out.worker}} {
		tagged := fmt.Sprintf("%s/jobs-%s:%s", a.Registry, target.name, a.Version)
		if !a.Build {
			*target.ref = pulumi.String(tagged).ToStringOutput()
			continue
		}
		img, err := docker.NewImage(ctx, a.objectName(target.name+"-image"), &docker.ImageArgs{
			ImageName: pulumi.String(tagged),
			Build: &docker.DockerBuildArgs{
				Context:    pulumi.String(a.appDir()),
				Dockerfile: pulumi.String(filepath.Join(a.appDir(), "Dockerfile")),
				Target:     pulumi.String(target.name),
				Network:    pulumi.String(a.BuildNetwork),
				Args:       pulumi.StringMap{"VERSION": pulumi.String(a.Version)},
			},
			Registry: a.registryLogin(),
		}, opts...)
		if err != nil {
			return images{}, fmt.Errorf("image %s: %w", tagged, err)
		}
		*target.ref = img.RepoDigest
	}
	return out, nil
}

func (a *EnvironmentArgs) appDir() string {
	if a.AppDir == "" {
		return "app"
	}
	return a.AppDir
}

// registryLogin is nil for a registry without credentials (a local one), which docker then
// pushes to anonymously.
func (a *EnvironmentArgs) registryLogin() docker.RegistryPtrInput {
	if !a.hasRegistryCredentials() {
		return nil
	}
	return &docker.RegistryArgs{
		Server:   pulumi.String(a.RegistryServer),
		Username: a.RegistryUsername,
		Password: a.RegistryPassword,
	}
}
