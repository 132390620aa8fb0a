package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
)

// FuzzDecodeSubmission: any body either decodes to a known kind with an
// input that re-validates to itself, or is refused with an InputError that
// has a 400/413 status and a message.
func FuzzDecodeSubmission(f *testing.F) {
	for _, s := range []string{
		`{"kind":"primes","input":{"start":1,"end":100}}`,
		`{"kind":"stats","input":{"values":[1,2,3.5,-4e10]}}`,
		`{"kind":"sleep","input":{"seconds":0.5}}`,
		`{"kind":"sleep","input":{"seconds":1e400}}`,
		`{"kind":"primes","input":{"start":0,"end":9999999}}`,
		`{"kind":"primes","input":{"start":9223372036854775807,"end":-9223372036854775808}}`,
		`{"kind":"nope","input":{}}`,
		`{"kind":"stats","input":{"values":[1,"x"]}}`,
		`{"kind":"stats","input":null}`,
		`{"kind":"stats","input":{"values":[1]}}{"x":1}`,
		`{"kind":"stats","input":{"values":[1],"values":[2]}}`,
		`{"kind":"\u0000","input":{}}`,
		``, `null`, `[]`, `"s"`, `{`,
	} {
		f.Add([]byte(s))
	}
	r := DefaultRegistry()
	f.Fuzz(func(t *testing.T, body []byte) {
		sub, err := r.DecodeSubmission(body)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error is not an InputError: %T %v", err, err)
			}
			if ie.Message == "" || (ie.HTTPStatus != http.StatusBadRequest && ie.HTTPStatus != http.StatusRequestEntityTooLarge) {
				t.Fatalf("bad InputError: %+v", ie)
			}
			return
		}
		kind, ok := r[sub.Kind]
		if !ok {
			t.Fatalf("accepted unknown kind %q", sub.Kind)
		}
		again, err := kind.Validate(sub.Input)
		if err != nil || !bytes.Equal(again, sub.Input) {
			t.Fatalf("normalised input %s does not re-validate to itself: %s, %v", sub.Input, again, err)
		}
	})
}

// FuzzValidateInput drives each kind's validation directly and runs the
// cheap accepted inputs: whatever passes validation must run without error
// and give a result that encodes as JSON.
func FuzzValidateInput(f *testing.F) {
	seeds := []struct {
		kind  uint8
		input string
	}{
		{0, `{"start":1,"end":100}`}, {0, `{"start":99999990,"end":100000000}`}, {0, `{"start":-5,"end":1}`},
		{1, `{"values":[1,2,3]}`}, {1, `{"values":[1e150,-1e150,1e150]}`}, {1, `{"values":[0.1,0.2]}`},
		{2, `{"seconds":0}`}, {2, `{"seconds":-0}`}, {2, `{"seconds":"1"}`},
	}
	for _, s := range seeds {
		f.Add(s.kind, []byte(s.input))
	}
	r := DefaultRegistry()
	names := r.Names() // primes, sleep, stats
	f.Fuzz(func(t *testing.T, k uint8, input []byte) {
		kind := r[names[int(k)%len(names)]]
		norm, err := kind.Validate(input)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field == "" {
				t.Fatalf("%s: error without a field: %v", kind.Name(), err)
			}
			return
		}
		switch kind.(type) {
		case Sleep:
			return // running it would only wait
		case Primes:
			var in primesInput
			_ = json.Unmarshal(norm, &in)
			if *in.End-*in.Start > 100_000 {
				return // valid but slow to fuzz; the width bound is checked by Validate
			}
		}
		res, err := kind.Run(context.Background(), norm)
		if err != nil {
			t.Fatalf("%s(%s): valid input failed to run: %v", kind.Name(), norm, err)
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatalf("%s(%s): result does not encode: %v", kind.Name(), norm, err)
		}
	})
}
