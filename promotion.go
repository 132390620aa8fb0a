package main

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/components"
	"github.com/example/jobs/settings"
)

// guardPromotion reads what the promotion source stack runs, applies the guard and decides
// whether this stack deploys that stack's images. GetOutputDetails waits for each value, so
// both decisions are made before any other resource is registered instead of halfway through
// an update. It returns the images to deploy, or nil to build or tag them as configured.
func guardPromotion(ctx *pulumi.Context, cfg settings.Config) (*components.ImageRefs, error) {
	if cfg.PromoteFrom == "" {
		return nil, nil
	}
	ref, err := pulumi.NewStackReference(ctx, cfg.PromoteFrom, nil)
	if err != nil {
		return nil, fmt.Errorf("promotion guard: reading stack %s (config jobs:promoteFrom): %w", cfg.PromoteFrom, err)
	}
	version, isString, err := stackOutput(ref, "version")
	if err != nil {
		return nil, fmt.Errorf("promotion guard: reading output version of stack %s (config jobs:promoteFrom): %w", cfg.PromoteFrom, err)
	}
	if !isString {
		return nil, fmt.Errorf("promotion guard: output version of stack %s is a %T, want a string like 0.1.0", cfg.PromoteFrom, version)
	}
	tested := settings.TestedVersion{Stack: cfg.PromoteFrom, Version: version.(string)}
	warning, err := settings.CheckPromotion(cfg, tested)
	if err != nil {
		return nil, err
	}
	if warning != "" {
		if err := ctx.Log.Warn(warning, nil); err != nil {
			return nil, err
		}
	}
	return testedImages(ctx, cfg, ref, tested)
}

// testedImages returns the source stack's images when this stack may run them. Not reusing them
// is never an error: the stack then builds or tags its images as before, and the log says why.
func testedImages(ctx *pulumi.Context, cfg settings.Config, ref *pulumi.StackReference, tested settings.TestedVersion) (*components.ImageRefs, error) {
	var images settings.TestedImages
	for _, o := range []struct {
		name string
		dst  *string
	}{{"apiImage", &images.API}, {"workerImage", &images.Worker}} {
		value, isString, err := stackOutput(ref, o.name)
		if err != nil {
			return nil, fmt.Errorf("promotion: reading output %s of stack %s (config jobs:promoteFrom): %w", o.name, cfg.PromoteFrom, err)
		}
		if !isString {
			// Shown as Go syntax, so the digest check below names what was there instead.
			*o.dst = fmt.Sprintf("%#v", value)
			continue
		}
		*o.dst = value.(string)
	}
	reuse, reason := settings.ReuseTestedImages(cfg, tested, images)
	if !reuse {
		return nil, ctx.Log.Info(reason+"; "+fallback(cfg), nil)
	}
	if err := ctx.Log.Info(reason, nil); err != nil {
		return nil, err
	}
	return &components.ImageRefs{API: images.API, Worker: images.Worker}, nil
}

// fallback says what the stack does with its images when it does not reuse the tested ones.
func fallback(cfg settings.Config) string {
	if cfg.Build {
		return fmt.Sprintf("building and pushing %s/jobs-api:%s and %s/jobs-worker:%s from app/ instead (jobs:build is true)",
			cfg.Registry, cfg.Version, cfg.Registry, cfg.Version)
	}
	return fmt.Sprintf("deploying %s/jobs-api:%s and %s/jobs-worker:%s by tag instead (jobs:build is false)",
		cfg.Registry, cfg.Version, cfg.Registry, cfg.Version)
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
