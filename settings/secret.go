package settings

// Secret holds a secret setting. It prints as a placeholder, so no error, log line or %v of a
// Config ever shows the value; Reveal is the one way to it, for the component to wrap in a
// Pulumi secret. The value sits behind a pointer because fmt prints nested pointers as
// addresses even on the paths where it skips String methods (a wrong verb such as %d).
type Secret struct{ value *string }

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{value: &v} }

// Reveal returns the value, "" when unset.
func (s Secret) Reveal() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}

// IsSet reports whether the secret holds a value.
func (s Secret) IsSet() bool { return s.Reveal() != "" }

func (s Secret) String() string {
	if !s.IsSet() {
		return "[unset]"
	}
	return "[secret]"
}

// GoString keeps %#v from printing the value too.
func (s Secret) GoString() string { return s.String() }
