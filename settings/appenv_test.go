package settings

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/jobs/release"
)

// withEnv is a minimal stack with jobs:env and jobs:secretEnv as the engine hands them over: JSON
// text, the secret one marked secret when it holds anything.
func withEnv(t *testing.T, p Project, env, secretEnv string) map[string]Value {
	t.Helper()
	v := values(minimal(t, p), "jobs:redisPassword")
	if env != "" {
		v["jobs:env"] = Value{Text: env}
	}
	if secretEnv != "" {
		v["jobs:secretEnv"] = Value{Text: secretEnv, Secret: secretEnv != "{}"}
	}
	return v
}

func TestAppEnvGoesToTheProcessesThatReadIt(t *testing.T) {
	p := project(t)
	c, err := Load("test", p, withEnv(t, p,
		// Numbers and booleans set with --path reach the program typed.
		`{"LOG_LEVEL":"debug","api":{"FLAG":true},"worker":{"BATCH":5,"EMPTY":""}}`,
		`{"API_KEY":"k-hunter2","worker":{"TOKEN":"t-hunter2"}}`))
	if err != nil {
		t.Fatal(err)
	}
	show := func(e Env) string {
		var parts []string
		for _, v := range e.Plain {
			parts = append(parts, v.Name+"@"+v.Path+"="+v.Value)
		}
		for _, v := range e.Secret {
			parts = append(parts, v.Name+"@"+v.Path+"=secret:"+v.Value.Reveal())
		}
		return strings.Join(parts, " ")
	}
	if got, want := show(c.API.Env), "FLAG@api.FLAG=true LOG_LEVEL@LOG_LEVEL=debug API_KEY@API_KEY=secret:k-hunter2"; got != want {
		t.Errorf("API env:\n got %s\nwant %s", got, want)
	}
	if got, want := show(c.Worker.Env), "BATCH@worker.BATCH=5 EMPTY@worker.EMPTY= LOG_LEVEL@LOG_LEVEL=debug API_KEY@API_KEY=secret:k-hunter2 TOKEN@worker.TOKEN=secret:t-hunter2"; got != want {
		t.Errorf("worker env:\n got %s\nwant %s", got, want)
	}
	for _, f := range []string{"%v", "%+v", "%#v"} {
		if out := fmt.Sprintf(f, c); strings.Contains(out, "hunter2") {
			t.Errorf("%s of the Config prints a secret variable: %s", f, out)
		}
	}
	empty, err := Load("test", p, withEnv(t, p, "{}", "{}"))
	if err != nil || !empty.API.Env.IsEmpty() || !empty.Worker.Env.IsEmpty() {
		t.Errorf("empty maps: %+v %+v, %v", empty.API.Env, empty.Worker.Env, err)
	}
}

// TestAppEnvRules: every bad entry is reported at once, with its full path, its value unless it
// is a secret, the rule and a fix; no secret value reaches a message.
func TestAppEnvRules(t *testing.T) {
	p := project(t)
	rm := func(path string) string {
		return "; fix: pulumi config rm --path '" + path + "', then set the variable you meant"
	}
	for _, c := range []struct {
		name, env, secretEnv string
		secretMarked         *bool // overrides whether the engine marks jobs:secretEnv secret
		want                 []string
	}{
		{"names", `{"lower-case":"a","1ST":"b","OK_1":"c"}`, "", nil, []string{
			`config jobs:env.1ST = "b" is invalid: "1ST" is not an environment variable name: letters, digits and '_', not starting with a digit` + rm("jobs:env.1ST"),
			`config jobs:env.lower-case = "a" is invalid: "lower-case" is not an environment variable name: letters, digits and '_', not starting with a digit` + rm("jobs:env.lower-case"),
		}},
		{"reserved", `{"PORT":"9000","worker":{"CONCURRENCY":"50"}}`, `{"api":{"REDIS_PASSWORD":"pw-hunter2"}}`, nil, []string{
			`config jobs:env.PORT = "9000" is invalid: PORT is the program's own: the program sets it to the port the probes and the Service use` + rm("jobs:env.PORT"),
			`config jobs:env.worker.CONCURRENCY = "50" is invalid: CONCURRENCY is the program's own: the program sets it from jobs:workerConcurrency` + rm("jobs:env.worker.CONCURRENCY"),
			`config jobs:secretEnv.api.REDIS_PASSWORD is invalid: REDIS_PASSWORD is the program's own: the program sets it from jobs:redisPassword` + rm("jobs:secretEnv.api.REDIS_PASSWORD"),
		}},
		{"values that are no text", `{"A":null,"B":{"C":"d"},"L":["x"],"api":"flag"}`, "", nil, []string{
			`config jobs:env.A = "" is invalid: it has no value; a variable holds text` + rm("jobs:env.A"),
			`config jobs:env.B = "" is invalid: its value is a map; a variable holds text (only api and worker, lowercase, hold the variables of one process)` + rm("jobs:env.B"),
			`config jobs:env.L = "" is invalid: its value is a list; a variable holds text` + rm("jobs:env.L"),
			`config jobs:env.api = "flag" is invalid: api holds the variables of the api alone, so it must be a map of them (jobs:env.api.NAME: value)` + rm("jobs:env.api"),
		}},
		{"NUL", `{"A":"x\u0000y"}`, "", nil, []string{
			`config jobs:env.A = "x\x00y" is invalid: an environment variable cannot hold a NUL character` + rm("jobs:env.A"),
		}},
		{"a variable twice for one process", `{"LOG_LEVEL":"info","api":{"LOG_LEVEL":"debug"},"worker":{"X":"1"}}`, `{"X":"x-hunter2"}`, nil, []string{
			`config jobs:env.api.LOG_LEVEL is invalid: LOG_LEVEL is also set by jobs:env.LOG_LEVEL, and a process gets each variable once; fix: pulumi config rm --path 'jobs:env.api.LOG_LEVEL' (or the other)`,
			`config jobs:secretEnv.X is invalid: X is also set by jobs:env.worker.X, and a process gets each variable once; fix: pulumi config rm --path 'jobs:secretEnv.X' (or the other)`,
		}},
		{"not maps", `["LOG_LEVEL"]`, `"s3cret-hunter2"`, nil, []string{
			`config jobs:env = "[\"LOG_LEVEL\"]" is invalid: must be a map of environment variables (NAME: value), not a list; fix: pulumi config rm jobs:env, then set each variable with pulumi config set --path 'jobs:env.NAME' <value>`,
			`config jobs:secretEnv is invalid: must be a map of environment variables (NAME: value), not a single value; fix: pulumi config rm jobs:secretEnv, then set each variable with pulumi config set --secret --path 'jobs:secretEnv.NAME' <value>`,
		}},
		{"secrets in plain text", "", `{"A":"a-hunter2","worker":{"B":"b-hunter2"}}`, new(false), []string{
			`config jobs:secretEnv.A is stored in plain text: it must be a secret; fix: pulumi config set --secret --path 'jobs:secretEnv.A' <value>`,
			`config jobs:secretEnv.worker.B is stored in plain text: it must be a secret; fix: pulumi config set --secret --path 'jobs:secretEnv.worker.B' <value>`,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := withEnv(t, p, c.env, c.secretEnv)
			if c.secretMarked != nil {
				s := v["jobs:secretEnv"]
				s.Secret = *c.secretMarked
				v["jobs:secretEnv"] = s
			}
			_, err := Load("test", p, v)
			if err == nil {
				t.Fatal("accepted")
			}
			if got, want := err.Error(), strings.Join(c.want, "\n"); got != want {
				t.Errorf("error:\n got %s\nwant %s", got, want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("an error shows a secret value: %v", err)
			}
		})
	}
	// A secret in jobs:env would be written to a ConfigMap; without a stack file to say which
	// value it is, the whole key is named.
	v := withEnv(t, p, `{"TOKEN":"t-hunter2"}`, "")
	v["jobs:env"] = Value{Text: v["jobs:env"].Text, Secret: true}
	_, err := Load("test", p, v)
	want := "config jobs:env holds an encrypted value: jobs:env becomes a ConfigMap, in plain text, so secrets go to jobs:secretEnv; " +
		"fix: pulumi config rm --path 'jobs:env' && pulumi config set --secret --path 'jobs:secretEnv.NAME' <value>"
	if err == nil || err.Error() != want {
		t.Errorf("a secret in jobs:env:\n got %v\nwant %s", err, want)
	}
}

// TestAppEnvStorageFromTheStackFile: the engine marks the whole of jobs:secretEnv secret when any
// value in it is; the stack file tells the one set without --secret, and the one secret set
// into jobs:env.
func TestAppEnvStorageFromTheStackFile(t *testing.T) {
	p := project(t)
	dir := t.TempDir()
	file := `config:
  jobs:env:
    LOG_LEVEL: debug
    worker:
      TOKEN:
        secure: v1:abc
  jobs:secretEnv:
    API_KEY:
      secure: v1:def
    worker:
      FORGOT: plain-hunter2
`
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.test.yaml"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	top, err := release.ReadTopology(dir)
	if err != nil {
		t.Fatal(err)
	}
	v := withEnv(t, p, `{"LOG_LEVEL":"debug","worker":{"TOKEN":"t-hunter2"}}`, `{"API_KEY":"k-hunter2","worker":{"FORGOT":"plain-hunter2"}}`)
	v["jobs:env"] = Value{Text: v["jobs:env"].Text, Secret: true}
	_, err = LoadInProject("test", p, v, top)
	want := "config jobs:env.worker.TOKEN holds an encrypted value: jobs:env becomes a ConfigMap, in plain text, so secrets go to jobs:secretEnv; " +
		"fix: pulumi config rm --path 'jobs:env.worker.TOKEN' && pulumi config set --secret --path 'jobs:secretEnv.worker.TOKEN' <value>\n" +
		"config jobs:secretEnv.worker.FORGOT is stored in plain text: it must be a secret; fix: pulumi config set --secret --path 'jobs:secretEnv.worker.FORGOT' <value>"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
	// The same values from a stack file that stores each the right way pass.
	good := strings.NewReplacer("      TOKEN:\n        secure: v1:abc\n", "      TOKEN: t\n", "      FORGOT: plain-hunter2\n", "      FORGOT:\n        secure: v1:ghi\n").Replace(file)
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.test.yaml"), []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if top, err = release.ReadTopology(dir); err != nil {
		t.Fatal(err)
	}
	v["jobs:env"] = Value{Text: `{"LOG_LEVEL":"debug","worker":{"TOKEN":"t"}}`}
	if _, err := LoadInProject("test", p, v, top); err != nil {
		t.Errorf("a stack file storing each value the right way: %v", err)
	}
}

// TestReservedEnvIsWhatTheProgramOwns keeps the list to the variables the program sets or
// depends on; the program's tests check that every variable it sets is in it.
func TestReservedEnvIsWhatTheProgramOwns(t *testing.T) {
	if got := strings.Join(ReservedEnv(), ","); got != "CONCURRENCY,HOST,PORT,REDIS_ADDR,REDIS_DB,REDIS_PASSWORD" {
		t.Errorf("ReservedEnv() = %s", got)
	}
}

// TestStackRulesAgainstOtherStackFiles: a NodePort another stack file fixes at the same node host
// is refused naming both stacks; at another node host (another cluster) it is not. A stack that
// promotes from itself is refused by the rule of package release.
func TestStackRulesAgainstOtherStackFiles(t *testing.T) {
	p := project(t)
	dir := t.TempDir()
	for stack, body := range map[string]string{
		"test":   "config:\n  jobs:nodePort: \"30042\"\n  jobs:nodeHost: localhost\n",
		"prod":   "config:\n  jobs:nodePort: \"30142\"\n  jobs:nodeHost: localhost\n",
		"review": "config:\n  jobs:nodePort: \"30142\"\n  jobs:nodeHost: localhost\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, "Pulumi."+stack+".yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	top, err := release.ReadTopology(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := minimal(t, p)
	cfg["jobs:nodePort"] = "30142"
	_, err = LoadInProject("review", p, values(cfg, "jobs:redisPassword"), top)
	want := `config jobs:nodePort = "30142" is invalid: stack review and stack prod (Pulumi.prod.yaml) both fix NodePort 30142 at jobs:nodeHost localhost, ` +
		`and one cluster has each NodePort once (a stack on another cluster sets that cluster's jobs:nodeHost); fix: pulumi config set jobs:nodePort <value>`
	if err == nil || err.Error() != want {
		t.Errorf("shared NodePort:\n got %v\nwant %s", err, want)
	}
	cfg["jobs:nodeHost"] = "node-1.example.com"
	if _, err := LoadInProject("review", p, values(cfg, "jobs:redisPassword"), top); err != nil {
		t.Errorf("the same port at another node host: %v", err)
	}

	cfg = minimal(t, p)
	cfg["jobs:promoteFrom"] = "organization/jobs/test"
	_, err = Load("test", p, values(cfg, "jobs:redisPassword"))
	want = `config jobs:promoteFrom = "organization/jobs/test" is invalid: it names this stack (test) itself, and a stack gated on itself refuses every new version; ` +
		`name the stack whose tested versions this one deploys, or leave it empty for the stack releases land on first; fix: pulumi config set jobs:promoteFrom <value>`
	if err == nil || err.Error() != want {
		t.Errorf("self promotion:\n got %v\nwant %s", err, want)
	}
}
