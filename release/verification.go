package release

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Verifier is the component label of the short-lived pod `make verify` runs inside an
// environment: the environment's network policies let exactly that pod reach the API and DNS.
const Verifier = "verify"

// VerificationOutput is the stack output (and VerificationKey the setting) that holds the record
// of a passing `make verify`: this stack checked this version running these images.
const (
	VerificationOutput = "verification"
	VerificationKey    = "jobs:verification"
)

// Verification records that Stack passed `make verify` at Version while running Images (by
// component, the references its apiImage and workerImage outputs held: digests, as built).
type Verification struct {
	Stack   string
	Version string
	Images  Images
}

// VerifyCommand is the command that verifies stack and records it.
func VerifyCommand(stack string) string { return "make verify STACK=" + StackOf(stack) }

// verificationJSON is the record as it is written: in the setting, in the output, for a person.
type verificationJSON struct {
	Stack       string `json:"stack"`
	Version     string `json:"version"`
	APIImage    string `json:"apiImage"`
	WorkerImage string `json:"workerImage"`
}

// Encode is the record as JSON, the text of jobs:verification and of the output.
func (v Verification) Encode() string {
	b, _ := json.Marshal(verificationJSON{Stack: v.Stack, Version: v.Version, APIImage: v.Images[API], WorkerImage: v.Images[Worker]})
	return string(b)
}

// Map is the record as the stack output exports it.
func (v Verification) Map() map[string]string {
	return map[string]string{"stack": v.Stack, "version": v.Version, OutputName(API): v.Images[API], OutputName(Worker): v.Images[Worker]}
}

// ParseVerification reads a record written by Encode (or exported by Map, as JSON). Every field
// must be there: a record that does not say what it verified verifies nothing.
func ParseVerification(text string) (Verification, error) {
	var j verificationJSON
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return Verification{}, fmt.Errorf(`not a verification record, want {"stack":..,"version":..,"apiImage":..,"workerImage":..} as %s writes it: %v`, VerifyCommand("<stack>"), err)
	}
	var missing []string
	for name, v := range map[string]string{"stack": j.Stack, "version": j.Version, "apiImage": j.APIImage, "workerImage": j.WorkerImage} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return Verification{}, fmt.Errorf("the verification record has no %s; run %s again to write a whole one", strings.Join(missing, ", "), VerifyCommand(j.Stack))
	}
	if err := CheckVersion(j.Version); err != nil {
		return Verification{}, fmt.Errorf("the verification record's version: %w", err)
	}
	return Verification{Stack: j.Stack, Version: j.Version, Images: Images{API: j.APIImage, Worker: j.WorkerImage}}, nil
}

// Covers reports whether the record is of stack running version with images: only then does it
// still vouch for what the stack runs. A later deploy of another version or other images (a
// tag bump, a rebuild) voids it; why says what differs.
func (v Verification) Covers(stack, version string, images Images) (ok bool, why string) {
	var diffs []string
	if v.Stack != StackOf(stack) {
		diffs = append(diffs, fmt.Sprintf("it was recorded by stack %s, not by stack %s", v.Stack, StackOf(stack)))
	}
	if v.Version != version {
		diffs = append(diffs, fmt.Sprintf("it verified version %s but the stack runs %s", v.Version, version))
	}
	for _, c := range Components {
		if v.Images[c] != images[c] {
			diffs = append(diffs, fmt.Sprintf("it verified %s %s but the stack runs %s", OutputName(c), v.Images[c], orNone(images[c])))
		}
	}
	return len(diffs) == 0, strings.Join(diffs, "; ")
}

// CheckVerified is the second half of the promotion guard: a stack may deploy the version its
// source runs only once the source has verified that version with the very images it runs
// (make verify). A rollback to an older version is CheckPromotion's affair, not this rule's:
// the source no longer runs it, so there is nothing of it there to verify. It returns a warning
// when jobs:allowUntestedVersion overrides the rule, and an error when it stops the update.
func CheckVerified(t Target, tested Tested) (warning string, err error) {
	if t.From == "" || tested.Version == "" || t.Version != tested.Version {
		return "", nil
	}
	source := StackOf(tested.Stack)
	var problem string
	if tested.Verification == nil {
		problem = fmt.Sprintf("stack %s runs version %s but has not verified it (it reports no %s output)", tested.Stack, t.Version, VerificationOutput)
	} else if ok, why := tested.Verification.Covers(source, tested.Version, tested.Images); !ok {
		problem = fmt.Sprintf("the verification stack %s reports does not cover what it runs (%s)", tested.Stack, why)
	} else {
		return "", nil
	}
	problem = fmt.Sprintf("version %s of stack %s is unverified: %s", t.Version, t.Stack, problem)
	if t.AllowUntested {
		return problem + "; deploying it anyway because jobs:allowUntestedVersion is true", nil
	}
	return "", fmt.Errorf("promotion guard: %s; run %s (it checks the stack and records the pass), or set jobs:allowUntestedVersion to true on stack %s to deploy it anyway",
		problem, VerifyCommand(source), t.Stack)
}

func orNone(s string) string {
	if s == "" {
		return "no image"
	}
	return s
}
