package jobs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// InputError says which field of a submission is wrong and how to fix it.
// HTTPStatus is 400 for a malformed or out-of-range value and 413 when the
// submission is too large.
type InputError struct {
	Field      string
	Message    string
	HTTPStatus int
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func badField(field, format string, args ...any) *InputError {
	return &InputError{Field: field, Message: fmt.Sprintf(format, args...), HTTPStatus: http.StatusBadRequest}
}

func tooLarge(field, format string, args ...any) *InputError {
	return &InputError{Field: field, Message: fmt.Sprintf(format, args...), HTTPStatus: http.StatusRequestEntityTooLarge}
}

// decodeStrict decodes one JSON object into v, rejecting unknown fields and
// trailing data, and turns encoding/json's errors into ones that name the
// field under prefix and what it should hold.
func decodeStrict(data []byte, v any, prefix, example string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, prefix, example)
	}
	if dec.More() {
		return badField(prefix, "has data after the JSON object; send exactly one object like %s", example)
	}
	return nil
}

func jsonError(err error, prefix, example string) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := prefix
		if typeErr.Field != "" {
			field = join(prefix, typeErr.Field)
		}
		return badField(field, "must be %s, not a JSON %s; example: %s", describe(typeErr.Type.String()), typeErr.Value, example)
	case errors.As(err, &syntaxErr):
		return badField(prefix, "is not valid JSON (%v at byte %d); example: %s", syntaxErr, syntaxErr.Offset, example)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badField(join(prefix, name), "is not a known field; example: %s", example)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return badField(prefix, "is empty or cut short; send a JSON object like %s", example)
	default:
		return badField(prefix, "could not be read as JSON (%v); example: %s", err, example)
	}
}

func join(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + "." + field
}

// describe turns a Go type name into words a client understands.
func describe(goType string) string {
	t := strings.TrimPrefix(goType, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		elem := describe(t[2:])
		_, noun, _ := strings.Cut(elem, " ")
		return "an array of " + noun + "s"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "string":
		return "a string"
	default:
		return "a JSON object"
	}
}
