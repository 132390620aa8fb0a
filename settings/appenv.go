package settings

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/example/jobs/release"
)

// The environment variables the program gives the app's containers itself (docs/contracts.md).
// The component sets them by these names; jobs:env and jobs:secretEnv may not.
const (
	EnvRedisAddr     = "REDIS_ADDR"
	EnvRedisPassword = "REDIS_PASSWORD"
	EnvPort          = "PORT"
	EnvConcurrency   = "CONCURRENCY"
)

// reservedEnv are the variables a stack may not set for the app, each with the reason: the ones
// the program sets, and the ones the app reads that would undo what the program configures.
var reservedEnv = map[string]string{
	EnvRedisAddr:     "the program sets it to the environment's own Redis Service",
	EnvRedisPassword: "the program sets it from jobs:redisPassword",
	EnvPort:          "the program sets it to the port the probes and the Service use",
	EnvConcurrency:   "the program sets it from jobs:workerConcurrency",
	"HOST":           "the app must listen on every interface, where the probes and the Service reach it",
	"REDIS_DB":       "the API and the worker must share the one Redis database the program provisions",
}

// The settings that hold the app's own variables: plain ones become a ConfigMap, secret ones a
// Secret of the environment.
const (
	envKey       = "env"
	secretEnvKey = "secretEnv"
)

// ReservedEnv lists the variables jobs:env and jobs:secretEnv may not set, sorted.
func ReservedEnv() []string {
	out := make([]string, 0, len(reservedEnv))
	for name := range reservedEnv {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Env is what one app process reads from the stack's own settings, as environment variables.
type Env struct {
	Plain  []Var       // from jobs:env, by name
	Secret []SecretVar // from jobs:secretEnv, by name
}

// Var is one plain variable. Path is where the stack sets it under jobs:env: NAME for both
// processes, <component>.NAME for one; it is also its key in the environment's ConfigMap.
type Var struct {
	Name, Path, Value string
}

// SecretVar is one secret variable; Path is as for Var, under jobs:secretEnv.
type SecretVar struct {
	Name, Path string
	Value      Secret
}

// IsEmpty reports whether the process gets no variable from the stack's settings.
func (e Env) IsEmpty() bool { return len(e.Plain) == 0 && len(e.Secret) == 0 }

// envNameRe is the portable environment variable name (POSIX): what every shell and runtime
// passes through unchanged.
var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// envEntry is one variable as a setting holds it, before it is given to processes.
type envEntry struct {
	scope string // "" for every process, else the one component that reads it
	name  string
	path  string // below the key
	value string
}

// appEnv reads jobs:env (plain) and jobs:secretEnv (secret) and returns each component's
// variables. file is the stack's own stack file, when it has one: the engine says only whether
// some value of a key is encrypted, the file says which.
func (r *reader) appEnv(file *release.StackFile) map[string]Env {
	plain := r.envSetting(envKey, false, file)
	secret := r.envSetting(secretEnvKey, true, file)
	out := map[string]Env{}
	for _, component := range release.Components {
		var e Env
		seen := map[string]string{} // name -> full path that gives it to this component
		take := func(key string, x envEntry) bool {
			if x.scope != "" && x.scope != component {
				return false
			}
			full := r.project.Full(key) + "." + x.path
			if other, dup := seen[x.name]; dup {
				// A shared pair is met once per process: the same message, kept once.
				r.errs = append(r.errs, fmt.Errorf("config %s is invalid: %s is also set by %s, and a process gets each variable once; "+
					"fix: pulumi config rm --path '%s' (or the other)", full, x.name, other, full))
				return false
			}
			seen[x.name] = full
			return true
		}
		for _, x := range plain {
			if take(envKey, x) {
				e.Plain = append(e.Plain, Var{Name: x.name, Path: x.path, Value: x.value})
			}
		}
		for _, x := range secret {
			if take(secretEnvKey, x) {
				e.Secret = append(e.Secret, SecretVar{Name: x.name, Path: x.path, Value: NewSecret(x.value)})
			}
		}
		slices.SortFunc(e.Plain, func(a, b Var) int { return strings.Compare(a.Name, b.Name) })
		slices.SortFunc(e.Secret, func(a, b SecretVar) int { return strings.Compare(a.Name, b.Name) })
		out[component] = e
	}
	r.errs = dedupeErrs(r.errs)
	return out
}

// envSetting reads one map of variables: NAME: value for every process, and api: / worker:
// (release.Components) holding the variables of that process only. Every entry is checked;
// secret values are never echoed.
func (r *reader) envSetting(key string, secret bool, file *release.StackFile) []envEntry {
	v, _, ok := r.lookup(key)
	if !ok {
		return nil
	}
	full := r.project.Full(key)
	var raw map[string]any
	dec := json.NewDecoder(strings.NewReader(v.Text))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil || raw == nil {
		rule := "must be a map of environment variables (NAME: value), not " + describeJSON(v.Text)
		fix := fmt.Sprintf("pulumi config rm %s, then set each variable with pulumi config set%s --path '%s.NAME' <value>", full, secretFlag(secret), full)
		if secret {
			r.errs = append(r.errs, fmt.Errorf("config %s is invalid: %s; fix: %s", full, rule, fix))
		} else {
			r.errs = append(r.errs, fmt.Errorf("config %s = %q is invalid: %s; fix: %s", full, v.Text, rule, fix))
		}
		return nil
	}

	var entries []envEntry
	var add func(scope, path string, m map[string]any)
	add = func(scope, path string, m map[string]any) {
		for _, name := range sortedKeys(m) {
			p := name
			if path != "" {
				p = path + "." + name
			}
			where := full + "." + p
			val := m[name]
			if scope == "" && slices.Contains(release.Components, name) {
				if sub, isMap := val.(map[string]any); isMap {
					add(name, p, sub)
					continue
				}
				text, _ := envValue(val)
				r.failEnv(where, text, secret, fmt.Sprintf("%s holds the variables of the %s alone, so it must be a map of them (%s.%s.NAME: value)", name, name, full, name))
				continue
			}
			text, rule := envValue(val)
			if rule == "" && !envNameRe.MatchString(name) {
				rule = fmt.Sprintf("%q is not an environment variable name: letters, digits and '_', not starting with a digit", name)
			}
			if why, reserved := reservedEnv[name]; rule == "" && reserved {
				rule = name + " is the program's own: " + why
			}
			if rule == "" && strings.ContainsRune(text, 0) {
				rule = "an environment variable cannot hold a NUL character"
			}
			if rule != "" {
				r.failEnv(where, text, secret, rule)
				continue
			}
			entries = append(entries, envEntry{scope: scope, name: name, path: p, value: text})
		}
	}
	add("", "", raw)

	// Secrets must be stored encrypted, plain values must not be: the engine says only whether
	// some value of the key is encrypted; the stack file, where there is one, says which.
	var leaves []release.Leaf
	if file != nil {
		leaves = file.Leaves(full)
	}
	wrong := func(l release.Leaf) bool { return l.Encrypted != secret }
	switch {
	case slices.ContainsFunc(leaves, wrong):
		for _, l := range leaves {
			if wrong(l) {
				r.failStorage(l.Path, secret)
			}
		}
		return nil
	case len(leaves) == 0 && len(entries) > 0 && v.Secret != secret:
		if secret {
			for _, x := range entries {
				r.failStorage(x.path, secret)
			}
		} else {
			r.failStorage("", secret)
		}
		return nil
	}
	return entries
}

// envValue is a variable's text. Pulumi hands numbers and booleans set with --path over typed;
// they become their usual spelling.
func envValue(v any) (text, rule string) {
	switch x := v.(type) {
	case string:
		return x, ""
	case json.Number:
		return x.String(), ""
	case bool:
		if x {
			return "true", ""
		}
		return "false", ""
	case nil:
		return "", "it has no value; a variable holds text"
	case map[string]any:
		return "", fmt.Sprintf("its value is a map; a variable holds text (only %s, lowercase, hold the variables of one process)", strings.Join(release.Components, " and "))
	}
	return "", "its value is a list; a variable holds text"
}

func (r *reader) failEnv(where, value string, secret bool, rule string) {
	fix := fmt.Sprintf("pulumi config rm --path '%s', then set the variable you meant", where)
	if secret {
		r.errs = append(r.errs, fmt.Errorf("config %s is invalid: %s; fix: %s", where, rule, fix))
		return
	}
	r.errs = append(r.errs, fmt.Errorf("config %s = %q is invalid: %s; fix: %s", where, value, rule, fix))
}

// failStorage reports a value stored the wrong way: a secret of jobs:secretEnv in plain text,
// or an encrypted value in jobs:env, which would be written to a ConfigMap. path is below the
// key; "" is the whole key, when the engine cannot say which value it is.
func (r *reader) failStorage(path string, secret bool) {
	at := func(key string) string {
		if path == "" {
			return r.project.Full(key)
		}
		return r.project.Full(key) + "." + path
	}
	if secret {
		where := at(secretEnvKey)
		r.errs = append(r.errs, fmt.Errorf("config %s is stored in plain text: it must be a secret; fix: pulumi config set --secret --path '%s' <value>", where, where))
		return
	}
	where, target := at(envKey), at(secretEnvKey)
	if path == "" {
		target += ".NAME"
	}
	r.errs = append(r.errs, fmt.Errorf("config %s holds an encrypted value: %s becomes a ConfigMap, in plain text, so secrets go to %s; "+
		"fix: pulumi config rm --path '%s' && pulumi config set --secret --path '%s' <value>", where, r.project.Full(envKey), r.project.Full(secretEnvKey), where, target))
}

func secretFlag(secret bool) string {
	if secret {
		return " --secret"
	}
	return ""
}

// describeJSON names the kind of a value that is not a map, without echoing it.
func describeJSON(text string) string {
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return "text"
	}
	switch v.(type) {
	case []any:
		return "a list"
	case nil:
		return "null"
	}
	return "a single value"
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// dedupeErrs drops repeated messages (a shared variable is checked for each process).
func dedupeErrs(errs []error) []error {
	var out []error
	seen := map[string]bool{}
	for _, err := range errs {
		if !seen[err.Error()] {
			seen[err.Error()] = true
			out = append(out, err)
		}
	}
	return out
}
