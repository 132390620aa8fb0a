package main

import (
	"strconv"
	"strings"
)

// lookup finds the value at a property path as the engine writes them in a detailed diff:
// keys joined by dots, list indices in brackets, and keys that hold dots or slashes quoted in
// brackets: spec.template.spec.containers[0].env[2].value,
// metadata.labels["app.kubernetes.io/name"].
func lookup(root map[string]any, path string) (any, bool) {
	elems, ok := splitPath(path)
	if !ok || root == nil {
		return nil, false
	}
	var cur any = root
	for _, e := range elems {
		switch x := cur.(type) {
		case map[string]any:
			key, isKey := e.(string)
			if !isKey {
				return nil, false
			}
			v, found := x[key]
			if !found {
				return nil, false
			}
			cur = v
		case []any:
			i, isIndex := e.(int)
			if !isIndex || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// splitPath splits a property path into keys (string) and indices (int); ok is false for a
// path it cannot read.
func splitPath(path string) (elems []any, ok bool) {
	for i := 0; i < len(path); {
		switch path[i] {
		case '.':
			// A dot separates two elements: never first, last, or doubled.
			if i == 0 || i == len(path)-1 || path[i+1] == '.' || path[i+1] == '[' {
				return nil, false
			}
			i++
		case '[':
			end := strings.IndexByte(path[i:], ']')
			if end < 0 {
				return nil, false
			}
			inner := path[i+1 : i+end]
			if strings.HasPrefix(inner, `"`) {
				// A quoted key may itself hold ']': read up to the closing quote and bracket.
				close := strings.Index(path[i+1:], `"]`)
				if close < 1 {
					return nil, false
				}
				key, err := strconv.Unquote(path[i+1 : i+1+close+1])
				if err != nil {
					return nil, false
				}
				elems = append(elems, key)
				i += 1 + close + 2
				continue
			}
			n, err := strconv.Atoi(inner)
			if err != nil {
				return nil, false
			}
			elems = append(elems, n)
			i += end + 1
		default:
			end := strings.IndexAny(path[i:], ".[")
			if end < 0 {
				end = len(path) - i
			}
			elems = append(elems, path[i:i+end])
			i += end
		}
	}
	return elems, len(elems) > 0
}
