package main

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/settings"
)

// guardPromotion reads the version the promotion source stack runs and applies the guard.
// GetOutputDetails waits for the value, so the guard decides before any other resource is
// registered instead of failing halfway through an update.
func guardPromotion(ctx *pulumi.Context, cfg settings.Config) error {
	if cfg.PromoteFrom == "" {
		return nil
	}
	ref, err := pulumi.NewStackReference(ctx, cfg.PromoteFrom, nil)
	if err != nil {
		return fmt.Errorf("promotion guard: reading stack %s (config jobs:promoteFrom): %w", cfg.PromoteFrom, err)
	}
	details, err := ref.GetOutputDetails("version")
	if err != nil {
		return fmt.Errorf("promotion guard: reading output version of stack %s (config jobs:promoteFrom): %w", cfg.PromoteFrom, err)
	}
	tested := settings.TestedVersion{Stack: cfg.PromoteFrom}
	value := details.Value
	if value == nil {
		value = details.SecretValue
	}
	if value != nil {
		s, ok := value.(string)
		if !ok {
			return fmt.Errorf("promotion guard: output version of stack %s is a %T, want a string like 0.1.0", cfg.PromoteFrom, value)
		}
		tested.Version = s
	}
	warning, err := settings.CheckPromotion(cfg, tested)
	if err != nil {
		return err
	}
	if warning != "" {
		return ctx.Log.Warn(warning, nil)
	}
	return nil
}
