package components

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// countingMocks counts registrations; the tests expect none.
type countingMocks struct{ registered int }

func (m *countingMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.registered++
	return args.Name, args.Inputs, nil
}

func (m *countingMocks) Call(pulumi.MockCallArgs) (resource.PropertyMap, error) { return nil, nil }

// TestNewEnvironmentRejectsIncompleteArgs: a caller that skipped package settings gets told
// which fields are missing, and nothing is created.
func TestNewEnvironmentRejectsIncompleteArgs(t *testing.T) {
	for _, c := range []struct {
		name string
		args *EnvironmentArgs
		want string
	}{
		{"nil", nil, "components.NewEnvironment: args are required"},
		{"empty", &EnvironmentArgs{}, "components.NewEnvironment: EnvironmentArgs fields [Env Version Registry ImagePullPolicy NodeHost RedisConfig RedisImage RedisPassword RedisStorageSize RedisVersion] are required (build them with settings.Load)"},
		{"half credentials", &EnvironmentArgs{
			Env: "test", Version: "0.1.0", Registry: "r.io/x", ImagePullPolicy: "Always", NodeHost: "h",
			RedisConfig: "x", RedisImage: "r.io/redis:7", RedisPassword: pulumi.String("pw"),
			RedisStorageSize: "1Gi", RedisVersion: "7", RegistryUsername: pulumi.String("u"),
		}, "components.NewEnvironment: RegistryUsername and RegistryPassword must be set together"},
		{"half images", &EnvironmentArgs{
			Env: "prod", Version: "0.1.0", Registry: "r.io/x", ImagePullPolicy: "Always", NodeHost: "h",
			RedisConfig: "x", RedisImage: "r.io/redis:7", RedisPassword: pulumi.String("pw"),
			RedisStorageSize: "1Gi", RedisVersion: "7", Images: &ImageRefs{API: "r.io/x/jobs-api@sha256:00"},
		}, "components.NewEnvironment: Images must name both the API and the worker image, or be nil to build or tag them"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := &countingMocks{}
			var got error
			_ = pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, got = NewEnvironment(ctx, "test", c.args)
				return nil
			}, pulumi.WithMocks("jobs", "test", m))
			if got == nil || got.Error() != c.want {
				t.Errorf("error:\n got %v\nwant %s", got, c.want)
			}
			if m.registered != 0 {
				t.Errorf("%d resources registered for bad args", m.registered)
			}
		})
	}
}
