package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/example/jobs/release"
)

// versionKey is the one config key the release steps change.
const versionKey = release.VersionKey

// stackNamePattern keeps the stack name a plain file-name fragment, so "-stack ../x" cannot
// point the tool at a file outside the project.
var stackNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// stackFile is a Pulumi stack config file held as raw bytes. It is edited in place rather than
// decoded and re-encoded, because re-encoding YAML drops the comment lines above each key and
// reorders or requotes values; a review diff must show exactly one changed line.
type stackFile struct {
	path string
	raw  []byte
	mode os.FileMode
	// valueStart and valueEnd delimit the version string itself (inside any quotes) in raw.
	valueStart, valueEnd int
}

// stackPath is where the Pulumi CLI keeps the config of stack in the project directory dir.
func stackPath(dir, stack string) (string, error) {
	if stack == "" {
		return "", fmt.Errorf("no stack given: pass -stack NAME, for example -stack test (make: STACK=test)")
	}
	if !stackNamePattern.MatchString(stack) {
		return "", fmt.Errorf("stack name %q is not a plain stack name: use the environment name, for example test or prod", stack)
	}
	return filepath.Join(dir, "Pulumi."+stack+".yaml"), nil
}

// readStackFile loads the config file of stack and locates its jobs:version value.
func readStackFile(dir, stack string) (*stackFile, error) {
	path, err := stackPath(dir, stack)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("stack %q has no config file %s: run from the project root (where Pulumi.yaml is) or pass -dir, and use a stack that has a Pulumi.<stack>.yaml", stack, path)
		}
		return nil, fmt.Errorf("cannot read the config of stack %q: %w", stack, err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the config of stack %q: %w", stack, err)
	}
	f := &stackFile{path: path, raw: raw, mode: info.Mode().Perm()}
	if err := f.locateVersion(); err != nil {
		return nil, err
	}
	return f, nil
}

// version is the current jobs:version value, unquoted.
func (f *stackFile) version() string {
	return string(f.raw[f.valueStart:f.valueEnd])
}

// withVersion returns the file contents with only the version string replaced: indentation,
// quoting, trailing comments, line endings and every other line stay byte for byte.
func (f *stackFile) withVersion(v string) []byte {
	out := make([]byte, 0, len(f.raw)+len(v))
	out = append(out, f.raw[:f.valueStart]...)
	out = append(out, v...)
	return append(out, f.raw[f.valueEnd:]...)
}

// setVersion writes the new version to disk. It writes a sibling temp file and renames it, so an
// interrupted run leaves either the old or the new file, never half of one.
func (f *stackFile) setVersion(v string) error {
	return writeFileAtomic(f.path, f.withVersion(v), f.mode)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// line is one line of the file with its byte offset; text excludes the line break.
type line struct {
	start int
	text  string
}

func splitLines(raw []byte) []line {
	var lines []line
	for start := 0; start < len(raw); {
		end := bytes.IndexByte(raw[start:], '\n')
		next := len(raw)
		if end >= 0 {
			next = start + end + 1
			end = start + end
		} else {
			end = len(raw)
		}
		lines = append(lines, line{start: start, text: strings.TrimSuffix(string(raw[start:end]), "\r")})
		start = next
	}
	return lines
}

// locateVersion finds the single "jobs:version: VALUE" entry directly under the top-level
// "config:" map, the shape `pulumi config set version VALUE` writes for a plain value.
func (f *stackFile) locateVersion() error {
	inConfig, found := false, 0
	keyIndent := -1
	for _, l := range splitLines(f.raw) {
		trimmed := strings.TrimLeft(l.text, " ")
		indent := len(l.text) - len(trimmed)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if indent == 0 {
			head := trimmed
			if i := strings.Index(head, " #"); i >= 0 {
				head = head[:i]
			}
			inConfig = strings.TrimRight(head, " \t") == "config:"
			continue
		}
		if !inConfig {
			continue
		}
		if keyIndent < 0 {
			keyIndent = indent
		}
		if indent != keyIndent || !strings.HasPrefix(trimmed, versionKey+":") {
			continue
		}
		rest := trimmed[len(versionKey)+1:]
		if rest != "" && rest[0] != ' ' {
			// "jobs:version:x" would be another key; only an exact key match counts.
			continue
		}
		found++
		if found > 1 {
			return fmt.Errorf("%s sets %s more than once: keep one %s line under config:", f.path, versionKey, versionKey)
		}
		start, end, err := plainValueSpan(rest)
		if err != nil {
			return fmt.Errorf("%s: %s %w", f.path, versionKey, err)
		}
		base := l.start + indent + len(versionKey) + 1
		f.valueStart, f.valueEnd = base+start, base+end
	}
	if found == 0 {
		return fmt.Errorf("%s has no %s under config:: add a line \"  %s: 0.1.0\" (indented under config:) and run again", f.path, versionKey, versionKey)
	}
	return nil
}

// plainValueSpan returns where the scalar value sits in rest (the text after "key:"), inside
// quotes if it is quoted, so that replacing that span keeps the author's quoting style.
func plainValueSpan(rest string) (start, end int, err error) {
	body := strings.TrimLeft(rest, " ")
	lead := len(rest) - len(body)
	if body == "" || strings.HasPrefix(body, "#") {
		return 0, 0, fmt.Errorf("has no value on its line (is it a secret or a nested map?): it must be a plain value like \"%s: 0.1.0\"", versionKey)
	}
	switch q := body[0]; q {
	case '"', '\'':
		closing := strings.IndexByte(body[1:], q)
		if closing < 0 {
			return 0, 0, fmt.Errorf("has an unterminated quoted value %s: close the quote", body)
		}
		return lead + 1, lead + 1 + closing, nil
	case '[', '{', '|', '>', '&', '*', '!':
		return 0, 0, fmt.Errorf("is not a plain value (%s): it must be a plain version like \"%s: 0.1.0\"", body, versionKey)
	}
	value := body
	if i := strings.Index(value, " #"); i >= 0 {
		value = value[:i]
	}
	value = strings.TrimRight(value, " \t")
	return lead, lead + len(value), nil
}
