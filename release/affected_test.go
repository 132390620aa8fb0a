package release

import (
	"slices"
	"testing"
)

func TestAffected(t *testing.T) {
	stacks := []string{"test", "prod"}
	for _, c := range []struct {
		changed []string
		want    []string
	}{
		{[]string{"Pulumi.prod.yaml"}, []string{"prod"}},
		{[]string{"Pulumi.test.yaml", "README.md", "docs/release.md"}, []string{"test"}},
		{[]string{"README.md", ".github/workflows/drift.yml"}, []string{}},
		{[]string{"Pulumi.test.yaml", "components/api.go"}, []string{"test", "prod"}},
		{[]string{"Pulumi.yaml"}, []string{"test", "prod"}},
		{[]string{"review.yaml"}, []string{"test", "prod"}},
		{[]string{"app/Dockerfile"}, []string{"test", "prod"}},
		{[]string{"sub/Pulumi.test.yaml"}, []string{"test", "prod"}},
		{nil, []string{}},
	} {
		if got := Affected(stacks, c.changed); !slices.Equal(got, c.want) || got == nil {
			t.Errorf("Affected(%v) = %#v, want %v", c.changed, got, c.want)
		}
	}
}
