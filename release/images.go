package release

// The components a release builds an image of: the HTTP API and the worker.
const (
	API    = "api"
	Worker = "worker"
)

// Components are the images a release builds, in the order they are built and listed.
var Components = []string{API, Worker}

// Repository is where one component's images live in a registry (server plus repository prefix,
// for example localhost:5000/jobs): <registry>/jobs-<component>.
func Repository(registry, component string) string {
	return registry + "/jobs-" + component
}

// Tagged is the reference of one component's image of a release: the image tag is the version.
func Tagged(registry, component, version string) string {
	return Repository(registry, component) + ":" + version
}
