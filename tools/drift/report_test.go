package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDigestNamesEachResourceAndFieldLiveAndDeclared(t *testing.T) {
	changes, _, err := parseDigest(readFixture(t, "drifted.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{Resource: "kubernetes:apps/v1:Deployment::test-api", Op: "update", Fields: []Field{
			{Path: "spec.replicas", Live: "3", Declared: "1"},
			{Path: "spec.template.spec.containers[0].env[2].value", Live: `"127.0.0.1"`, Declared: `"0.0.0.0"`},
		}},
		{Resource: "kubernetes:core/v1:Secret::test-redis-auth", Op: "update", Fields: []Field{
			{Path: "stringData", Live: "[secret]", Declared: "[secret]"},
		}},
		{Resource: "kubernetes:networking.k8s.io/v1:NetworkPolicy::test-redis-ingress", Op: "create"},
	}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("changes:\n%+v\nwant\n%+v", changes, want)
	}
}

func TestParseDigestInSyncHasNoChanges(t *testing.T) {
	changes, diags, err := parseDigest(readFixture(t, "insync.json"))
	if err != nil || len(changes) != 0 || len(diags) != 0 {
		t.Errorf("an in-sync digest: changes %+v, diagnostics %+v, err %v; want none", changes, diags, err)
	}
}

func TestParseDigestRefusesWhatIsNoDigest(t *testing.T) {
	for _, out := range []string{"", "error: could not connect", "[1,2]"} {
		if _, _, err := parseDigest([]byte(out)); err == nil || !strings.Contains(err.Error(), "no JSON digest") {
			t.Errorf("parseDigest(%q): err %v, want one saying it is no JSON digest", out, err)
		}
	}
}

func TestShowNeverPrintsASecret(t *testing.T) {
	secret := map[string]any{secretSig: "1b47061264138c4ac30d75fd1eb44270", "plaintext": `"hunter2"`}
	for _, v := range []any{secret, map[string]any{"a": []any{secret}}, "[secret]"} {
		if got := show(v); strings.Contains(got, "hunter2") || !strings.Contains(got, "[secret]") {
			t.Errorf("show(%v) = %s, want the secret hidden as [secret]", v, got)
		}
	}
}

func TestLookupReadsTheEnginesPropertyPaths(t *testing.T) {
	root := map[string]any{
		"metadata": map[string]any{"labels": map[string]any{"app.kubernetes.io/name": "jobs", "a]b": "odd"}},
		"spec":     map[string]any{"containers": []any{map[string]any{"env": []any{"x", map[string]any{"value": "v"}}}}},
	}
	for path, want := range map[string]any{
		`metadata.labels["app.kubernetes.io/name"]`: "jobs",
		`metadata.labels["a]b"]`:                    "odd",
		"spec.containers[0].env[1].value":           "v",
		"spec.containers[0].env[0]":                 "x",
	} {
		if got, ok := lookup(root, path); !ok || got != want {
			t.Errorf("lookup(%s) = %v, %v; want %v", path, got, ok, want)
		}
	}
	for _, path := range []string{"spec.containers[1]", "spec.containers[x]", "spec.missing", "spec..containers", "spec.containers[0", "", "metadata.labels[\"unterminated]"} {
		if got, ok := lookup(root, path); ok {
			t.Errorf("lookup(%q) = %v, want not found", path, got)
		}
	}
}

func TestResourceNameIsTypeAndName(t *testing.T) {
	for urn, want := range map[string]string{
		"urn:pulumi:test::jobs::jobs:index:Environment$kubernetes:apps/v1:Deployment::test-api": "kubernetes:apps/v1:Deployment::test-api",
		"urn:pulumi:test::jobs::pulumi:pulumi:Stack::jobs-test":                                 "pulumi:pulumi:Stack::jobs-test",
	} {
		if got := resourceName(urn); got != want {
			t.Errorf("resourceName(%s) = %s, want %s", urn, got, want)
		}
	}
}
