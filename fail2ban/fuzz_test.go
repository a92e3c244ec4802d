package fail2ban

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
)

func FuzzDecodeReply(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.resp"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.TrimSuffix(b, []byte(endMarker)))
	}
	f.Add([]byte("\x80\x02K\x01cexceptions\nFoo\nq\x00U\x03barq\x01\x85q\x02Rq\x03\x86q\x04."))
	f.Add([]byte("\x80\x04K\x00}\x94\x8c\x01ah\x00s\x86."))
	f.Add([]byte(exponentialPickle(8)))

	f.Fuzz(func(t *testing.T, b []byte) {
		// decodeReply has no recover, so conversion bugs show up as crashes.
		v, err := decodeReply(b)
		if err != nil {
			var ce *CommandError
			var pe *ProtocolError
			if !errors.As(err, &ce) && !errors.As(err, &pe) {
				t.Fatalf("error of unexpected type %T: %v", err, err)
			}
			if v != nil {
				t.Fatalf("non-nil value %T with error", v)
			}
			_ = err.Error()
			return
		}
		if err := checkPlain(v, 0); err != nil {
			t.Fatal(err)
		}
	})
}

// checkPlain verifies that v only contains the types DecodeReply documents.
func checkPlain(v any, depth int) error {
	if depth > maxDepth+1 {
		return fmt.Errorf("value deeper than %d", maxDepth)
	}
	switch x := v.(type) {
	case nil, string, bool, int64, float64, *big.Int, []byte:
		return nil
	case []any:
		for _, e := range x {
			if err := checkPlain(e, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, e := range x {
			if err := checkPlain(e, depth+1); err != nil {
				return err
			}
		}
	case map[any]any:
		for k, e := range x {
			if err := checkPlain(k, depth+1); err != nil {
				return err
			}
			if err := checkPlain(e, depth+1); err != nil {
				return err
			}
		}
	case PyObject:
		for _, e := range x.Args {
			if err := checkPlain(e, depth+1); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unexpected type %T in decoded value", v)
	}
	return nil
}
