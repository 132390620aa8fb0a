package program

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/release"
	"github.com/example/jobs/settings"
)

// guardPromotion reads what the stack this one promotes from runs, applies the promotion guard
// and decides whether this stack deploys that stack's images. GetOutputDetails waits for each
// value, so both decisions are made before any other resource is registered instead of halfway
// through an update. It returns the images to deploy, or nil to build or tag them as configured.
func guardPromotion(ctx *pulumi.Context, cfg settings.Config) (release.Images, error) {
	from := cfg.Promotion.From
	if from == "" {
		return nil, nil
	}
	ref, err := pulumi.NewStackReference(ctx, from, nil)
	if err != nil {
		return nil, fmt.Errorf("promotion guard: reading stack %s (config jobs:promoteFrom): %w", from, err)
	}
	version, isString, err := stackOutput(ref, "version")
	if err != nil {
		return nil, fmt.Errorf("promotion guard: reading output version of stack %s (config jobs:promoteFrom): %w", from, err)
	}
	if !isString {
		return nil, fmt.Errorf("promotion guard: output version of stack %s is a %T, want a string like 0.1.0", from, version)
	}
	tested := release.Tested{Stack: from, Version: version.(string), Images: release.Images{}}
	if err := readTested(ref, &tested); err != nil {
		return nil, err
	}
	for _, guard := range []func(release.Target, release.Tested) (string, error){release.CheckPromotion, release.CheckVerified} {
		warning, err := guard(cfg.ReleaseTarget(), tested)
		if err != nil {
			return nil, err
		}
		if warning != "" {
			if err := ctx.Log.Warn(warning, nil); err != nil {
				return nil, err
			}
		}
	}
	return testedImages(ctx, cfg, tested)
}

// readTested reads the source stack's images and its verification record into tested.
func readTested(ref *pulumi.StackReference, tested *release.Tested) error {
	for _, component := range release.Components {
		output := release.OutputName(component)
		value, isString, err := stackOutput(ref, output)
		if err != nil {
			return fmt.Errorf("promotion: reading output %s of stack %s (config jobs:promoteFrom): %w", output, tested.Stack, err)
		}
		if !isString {
			// Shown as Go syntax, so the digest rule names what was there instead.
			value = fmt.Sprintf("%#v", value)
		}
		tested.Images[component] = value.(string)
	}
	value, _, err := stackOutput(ref, release.VerificationOutput)
	if err != nil {
		return fmt.Errorf("promotion guard: reading output %s of stack %s (config jobs:promoteFrom): %w", release.VerificationOutput, tested.Stack, err)
	}
	if value == "" {
		return nil
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return err
	}
	v, err := release.ParseVerification(string(raw))
	if err != nil {
		return fmt.Errorf("promotion guard: output %s of stack %s: %w", release.VerificationOutput, tested.Stack, err)
	}
	tested.Verification = &v
	return nil
}

// testedImages returns the source stack's images when this stack may run them. Not reusing them
// is never an error: the stack then builds or tags its images as configured, and the log says why.
func testedImages(ctx *pulumi.Context, cfg settings.Config, tested release.Tested) (release.Images, error) {
	reuse, reason := release.ReuseTested(cfg.ReleaseTarget(), tested)
	if !reuse {
		return nil, ctx.Log.Info(reason+"; "+fallback(cfg), nil)
	}
	if err := ctx.Log.Info(reason, nil); err != nil {
		return nil, err
	}
	return tested.Images, nil
}

// fallback says what the stack does with its images when it does not reuse the tested ones.
func fallback(cfg settings.Config) string {
	var refs []string
	for _, component := range release.Components {
		refs = append(refs, release.Tagged(cfg.Images.Registry, component, cfg.Version))
	}
	if cfg.Images.Build {
		return fmt.Sprintf("building and pushing %s from app/ instead (jobs:build is true)", strings.Join(refs, " and "))
	}
	return fmt.Sprintf("deploying %s by tag instead (jobs:build is false)", strings.Join(refs, " and "))
}

// stackOutput reads one output of a stack, secret or not. A missing output is the empty string,
// so callers treat "not exported" and "exported empty" alike.
func stackOutput(ref *pulumi.StackReference, name string) (value any, isString bool, err error) {
	details, err := ref.GetOutputDetails(name)
	if err != nil {
		return nil, false, err
	}
	value = details.Value
	if value == nil {
		value = details.SecretValue
	}
	if value == nil {
		return "", true, nil
	}
	_, isString = value.(string)
	return value, isString, nil
}
