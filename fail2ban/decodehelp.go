package fail2ban

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Helpers turning decoded payloads into typed values. Each returns a
// *ProtocolError naming the command when the payload has another shape.

// cmdText renders a command for error messages, shortened for long ones
// such as a ban of thousands of addresses.
func cmdText(args []string) string {
	return clip(strings.Join(args, " "), 120)
}

// withCommand adds the command to errors that came from fail2ban's answer;
// I/O errors already name the socket and are returned unchanged.
func withCommand(args []string, err error) error {
	var ce *CommandError
	var pe *ProtocolError
	if errors.As(err, &ce) || errors.As(err, &pe) {
		return fmt.Errorf("%w (command: %s)", err, cmdText(args))
	}
	return err
}

func shapeErr(args []string, what string, v any) error {
	return &ProtocolError{Message: fmt.Sprintf("reply to %q is not %s: %s", cmdText(args), what, describe(v))}
}

func toInt(args []string, v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case bool: // Python bools are ints
		if x {
			return 1, nil
		}
		return 0, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return int64(x), nil
		}
	}
	return 0, shapeErr(args, "an integer", v)
}

// toSeconds converts a number of seconds; values beyond the range of
// time.Duration are clamped.
func toSeconds(args []string, v any) (time.Duration, error) {
	const maxSeconds = math.MaxInt64 / int64(time.Second)
	switch x := v.(type) {
	case int64:
		switch {
		case x > maxSeconds:
			return time.Duration(math.MaxInt64), nil
		case x < -maxSeconds:
			return time.Duration(math.MinInt64), nil
		}
		return time.Duration(x) * time.Second, nil
	case float64:
		if math.IsNaN(x) {
			break
		}
		switch {
		case x >= float64(maxSeconds):
			return time.Duration(math.MaxInt64), nil
		case x <= -float64(maxSeconds):
			return time.Duration(math.MinInt64), nil
		}
		return time.Duration(x * float64(time.Second)), nil
	case *big.Int:
		if x.Sign() > 0 {
			return time.Duration(math.MaxInt64), nil
		}
		return time.Duration(math.MinInt64), nil
	}
	return 0, shapeErr(args, "a number of seconds", v)
}

func toString(args []string, v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", shapeErr(args, "a string", v)
}

func toBool(args []string, v any) (bool, error) {
	if b, ok := v.(bool); ok {
		return b, nil
	}
	return false, shapeErr(args, "a boolean", v)
}

// toStrings converts a list of strings; None counts as an empty list.
func toStrings(args []string, v any) ([]string, error) {
	if v == nil {
		return []string{}, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, shapeErr(args, "a list", v)
	}
	out := make([]string, len(l))
	for i, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, shapeErr(args, "a list of strings", v)
		}
		out[i] = s
	}
	return out, nil
}

// text renders an optional setting value (None, str or number) as text.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case *big.Int:
		return x.String()
	}
	return fmt.Sprint(v)
}

// truthy reads an optional flag that fail2ban may keep as bool, number or
// text ("true", "yes", "1", "on").
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "1", "on":
			return true
		}
	}
	return false
}

// pair splits a ("key", value) tuple.
func pair(v any) (string, any, bool) {
	kv, ok := v.([]any)
	if !ok || len(kv) != 2 {
		return "", nil, false
	}
	k, ok := kv[0].(string)
	return k, kv[1], ok
}
