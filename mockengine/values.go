package mockengine

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Plain converts property values to plain JSON-able Go values: secrets unwrapped, whole numbers
// as int64. An unknown value is an error: no object a provider sends can hold one.
func Plain(v any) (any, error) {
	switch p := v.(type) {
	case resource.PropertyMap:
		out := map[string]any{}
		for k, e := range p {
			pv, err := Plain(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if pv != nil {
				out[string(k)] = pv
			}
		}
		return out, nil
	case resource.PropertyValue:
		switch {
		case p.IsNull():
			return nil, nil
		case p.IsComputed():
			return nil, fmt.Errorf("unknown value")
		case p.IsOutput():
			o := p.OutputValue()
			if !o.Known {
				return nil, fmt.Errorf("unknown output value")
			}
			return Plain(o.Element)
		case p.IsSecret():
			return Plain(p.SecretValue().Element)
		case p.IsString():
			return p.StringValue(), nil
		case p.IsBool():
			return p.BoolValue(), nil
		case p.IsNumber():
			n := p.NumberValue()
			if n == float64(int64(n)) {
				return int64(n), nil
			}
			return n, nil
		case p.IsArray():
			out := []any{}
			for i, e := range p.ArrayValue() {
				pv, err := Plain(e)
				if err != nil {
					return nil, fmt.Errorf("[%d]: %w", i, err)
				}
				out = append(out, pv)
			}
			return out, nil
		case p.IsObject():
			return Plain(p.ObjectValue())
		case p.IsResourceReference():
			return nil, fmt.Errorf("resource reference %s cannot be a plain value", p.ResourceReferenceValue().URN)
		}
		return nil, fmt.Errorf("unsupported property value %v", p)
	}
	return nil, fmt.Errorf("unsupported value %T", v)
}

// At walks a plain value along a path of map keys (string) and list indexes (int); a missing
// step yields nil.
func At(v any, path ...any) any {
	for _, step := range path {
		switch s := step.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[s]
		case int:
			l, ok := v.([]any)
			if !ok || s >= len(l) {
				return nil
			}
			v = l[s]
		}
	}
	return v
}

// DiffPaths lists the dotted paths at which two plain values differ, sorted.
func DiffPaths(a, b any) []string {
	out := diffPaths("", a, b)
	slices.Sort(out)
	return out
}

func diffPaths(prefix string, a, b any) []string {
	ma, aok := a.(map[string]any)
	mb, bok := b.(map[string]any)
	if aok && bok {
		var out []string
		keys := map[string]bool{}
		for k := range ma {
			keys[k] = true
		}
		for k := range mb {
			keys[k] = true
		}
		for k := range keys {
			out = append(out, diffPaths(prefix+"."+k, ma[k], mb[k])...)
		}
		return out
	}
	la, aok := a.([]any)
	lb, bok := b.([]any)
	if aok && bok && len(la) == len(lb) {
		var out []string
		for i := range la {
			out = append(out, diffPaths(fmt.Sprintf("%s[%d]", prefix, i), la[i], lb[i])...)
		}
		return out
	}
	if reflect.DeepEqual(a, b) {
		return nil
	}
	return []string{strings.TrimPrefix(prefix, ".")}
}

// HasSecret reports whether a property value is, or holds, a secret.
func HasSecret(v resource.PropertyValue) bool {
	switch {
	case v.IsSecret():
		return true
	case v.IsOutput():
		return v.OutputValue().Secret || HasSecret(v.OutputValue().Element)
	case v.IsObject():
		for _, e := range v.ObjectValue() {
			if HasSecret(e) {
				return true
			}
		}
	case v.IsArray():
		for _, e := range v.ArrayValue() {
			if HasSecret(e) {
				return true
			}
		}
	}
	return false
}
