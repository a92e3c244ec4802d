package fail2ban

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"

	ogorek "github.com/kisielk/og-rek"
)

// Limits applied while converting a decoded pickle into plain Go values.
// Pickle memo references allow cycles and exponential sharing, so both the
// nesting depth and the number of produced values are bounded.
const maxDepth = 100

var (
	errTooDeep  = errors.New("value nested too deeply")
	errTooLarge = errors.New("value expands beyond size limit")
)

// PyObject is a Python object without a natural Go counterpart found inside a
// reply payload (an instance of some class other than str, or a bare class).
type PyObject struct {
	Class string // dotted "module.Name"
	Args  []any  // converted constructor arguments, nil for a bare class
}

// DecodeReply decodes one fail2ban reply (the pickle bytes without the
// trailing end marker) into plain Go values.
//
// A successful reply (0, payload) yields the payload, converted as follows:
// str → string, int → int64 (or *big.Int when it does not fit), bool → bool,
// float → float64, None → nil, list and tuple → []any, dict → map[string]any
// when all keys are strings (map[any]any otherwise), bytes → []byte and
// builtins.str(x) objects (how fail2ban pickles IP addresses) → x.
//
// A failure reply (1, exception) yields a *CommandError (matching
// ErrUnknownJail for unknown jails). Anything else, including fail2ban's
// bare "ERROR: ..." string, yields a *ProtocolError. DecodeReply never
// panics.
func DecodeReply(b []byte) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v = nil
			err = &ProtocolError{Message: fmt.Sprintf("decoder panic: %v", r)}
		}
	}()
	return decodeReply(b)
}

// decodeReply is DecodeReply without the last-resort recover, so that fuzzing
// surfaces bugs in the conversion code.
func decodeReply(b []byte) (any, error) {
	raw, err := unpickle(b)
	if err != nil {
		return nil, &ProtocolError{Message: "cannot decode reply", Err: err}
	}
	c := converter{budget: 2*len(b) + 64}
	switch r := raw.(type) {
	case string:
		if strings.HasPrefix(r, "ERROR") {
			return nil, &ProtocolError{Message: r}
		}
		return nil, &ProtocolError{Message: "unexpected bare string reply: " + clip(r, 200)}
	case ogorek.Tuple:
		if len(r) != 2 {
			return nil, &ProtocolError{Message: fmt.Sprintf("reply tuple has %d elements, want 2", len(r))}
		}
		code, ok := r[0].(int64)
		if !ok {
			return nil, &ProtocolError{Message: fmt.Sprintf("reply status has type %T, want int", r[0])}
		}
		switch code {
		case 0:
			v, err := c.convert(r[1], 0)
			if err != nil {
				return nil, &ProtocolError{Message: "cannot convert payload", Err: err}
			}
			return v, nil
		case 1:
			return nil, c.exception(r[1])
		default:
			return nil, &ProtocolError{Message: fmt.Sprintf("unknown reply status %d", code)}
		}
	default:
		return nil, &ProtocolError{Message: fmt.Sprintf("unexpected reply type %T", raw)}
	}
}

// unpickle runs the og-rek decoder, turning any panic inside it into an error.
func unpickle(b []byte) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v = nil
			err = fmt.Errorf("pickle decoder panic: %v", r)
		}
	}()
	return ogorek.NewDecoderWithConfig(bytes.NewReader(b), &ogorek.DecoderConfig{}).Decode()
}

type converter struct {
	budget int // remaining number of values that may be produced
}

func (c *converter) charge(n int) error {
	c.budget -= n
	if c.budget < 0 {
		return errTooLarge
	}
	return nil
}

func isStrClass(cl ogorek.Class) bool {
	switch cl.Module {
	case "builtins", "__builtin__":
		return cl.Name == "str" || cl.Name == "unicode"
	}
	return false
}

func className(cl ogorek.Class) string {
	if cl.Module == "" {
		return cl.Name
	}
	return cl.Module + "." + cl.Name
}

// convert turns an og-rek value into the plain Go representation described at
// DecodeReply.
func (c *converter) convert(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	if err := c.charge(1); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil, ogorek.None:
		return nil, nil
	case string, bool, int64, float64:
		return x, nil
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), nil
		}
		return new(big.Int).Set(x), nil
	case ogorek.ByteString:
		return string(x), nil
	case ogorek.Bytes:
		return []byte(x), nil
	case []byte:
		return bytes.Clone(x), nil
	case []any:
		return c.list(x, depth)
	case ogorek.Tuple:
		return c.list(x, depth)
	case map[any]any:
		return c.dict(x, depth)
	case ogorek.Call:
		if isStrClass(x.Callable) && len(x.Args) == 1 {
			return c.convert(x.Args[0], depth+1)
		}
		args, err := c.list(x.Args, depth)
		if err != nil {
			return nil, err
		}
		return PyObject{Class: className(x.Callable), Args: args}, nil
	case ogorek.Class:
		return PyObject{Class: className(x)}, nil
	default:
		return nil, fmt.Errorf("unsupported pickle value of type %T", v)
	}
}

func (c *converter) list(l []any, depth int) ([]any, error) {
	if err := c.charge(len(l)); err != nil {
		return nil, err
	}
	out := make([]any, len(l))
	for i, e := range l {
		v, err := c.convert(e, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (c *converter) dict(m map[any]any, depth int) (any, error) {
	if err := c.charge(len(m)); err != nil {
		return nil, err
	}
	allStrings := true
	for k := range m {
		if _, ok := k.(string); !ok {
			allStrings = false
			break
		}
	}
	if allStrings {
		out := make(map[string]any, len(m))
		for k, e := range m {
			v, err := c.convert(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k.(string)] = v
		}
		return out, nil
	}
	out := make(map[any]any, len(m))
	for k, e := range m {
		key, err := convertKey(k)
		if err != nil {
			return nil, err
		}
		v, err := c.convert(e, depth+1)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	return out, nil
}

// convertKey maps a (hashable) og-rek dict key to a hashable plain Go value.
func convertKey(k any) (any, error) {
	switch x := k.(type) {
	case nil, ogorek.None:
		return nil, nil
	case string, bool, int64, float64:
		return x, nil
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), nil
		}
		return x.String(), nil
	case ogorek.ByteString:
		return string(x), nil
	case ogorek.Bytes:
		return string(x), nil
	case ogorek.Class:
		return className(x), nil
	default:
		return nil, fmt.Errorf("unsupported dict key of type %T", k)
	}
}

// exception converts the payload of a (1, exc) reply into a *CommandError.
func (c *converter) exception(v any) error {
	switch x := v.(type) {
	case ogorek.Call:
		return &CommandError{Class: className(x.Callable), Message: c.message(x.Args)}
	case ogorek.Class:
		return &CommandError{Class: className(x)}
	case string:
		return &CommandError{Message: x}
	default:
		return &CommandError{Message: fmt.Sprintf("unrecognised exception value of type %T", v)}
	}
}

// message renders exception arguments roughly like Python's str(exc).
func (c *converter) message(args ogorek.Tuple) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		v, err := c.convert(a, 1)
		if err != nil {
			parts = append(parts, "<"+err.Error()+">")
			continue
		}
		if s, ok := v.(string); ok {
			parts = append(parts, s)
		} else {
			parts = append(parts, clip(fmt.Sprint(v), 500))
		}
	}
	return strings.Join(parts, ", ")
}

// clip shortens s to at most n bytes plus an ellipsis, cutting at a rune start.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
