package components

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Label keys from the Kubernetes recommended labels.
const (
	labelName      = "app.kubernetes.io/name"
	labelInstance  = "app.kubernetes.io/instance"
	labelComponent = "app.kubernetes.io/component"
	labelPartOf    = "app.kubernetes.io/part-of"
	labelManagedBy = "app.kubernetes.io/managed-by"
	labelVersion   = "app.kubernetes.io/version"

	appName = "jobs"

	componentAPI    = "api"
	componentWorker = "worker"
	componentRedis  = "redis"
)

// labeler builds the label sets of one environment.
type labeler struct {
	env          string
	version      string
	redisVersion string
}

// common labels go on every object. component and version are left out when empty: objects
// that outlive a release carry no version, so a tag bump does not touch them.
func (l labeler) common(component, version string) pulumi.StringMap {
	m := pulumi.StringMap{
		labelName:      pulumi.String(appName),
		labelInstance:  pulumi.String(l.env),
		labelPartOf:    pulumi.String(appName),
		labelManagedBy: pulumi.String("pulumi"),
	}
	if component != "" {
		m[labelComponent] = pulumi.String(component)
	}
	if version != "" {
		m[labelVersion] = pulumi.String(version)
	}
	return m
}

// release labels an API or worker object with the release version.
func (l labeler) release(component string) pulumi.StringMap {
	return l.common(component, l.version)
}

// redis labels a Redis object with the Redis image tag, which is true of every Redis object.
func (l labeler) redis() pulumi.StringMap { return l.common(componentRedis, l.redisVersion) }

// selector never holds the version: selectors are immutable and must survive a tag bump.
func (l labeler) selector(component string) pulumi.StringMap {
	return pulumi.StringMap{
		labelName:      pulumi.String(appName),
		labelInstance:  pulumi.String(l.env),
		labelComponent: pulumi.String(component),
	}
}
