package textfmt

import (
	"strconv"
)

// Bytes writes a size the way people read it: 312 bytes, 1.5 KB, 16 KB,
// 2.3 MB (a KB is 1024 bytes). It rounds up to a tenth, so a size is never
// shown smaller than it is: one byte over a 512 KB limit reads 512.1 KB.
func Bytes(n int64) string {
	switch {
	case n == 1:
		return "1 byte"
	case n < 1<<10:
		return strconv.FormatInt(n, 10) + " bytes"
	case n < 1<<20:
		return tenthsUp(n, 1<<10) + " KB"
	}
	return tenthsUp(n, 1<<20) + " MB"
}

// tenthsUp writes n/unit rounded up to a tenth, without a trailing ".0".
func tenthsUp(n, unit int64) string {
	t := n / unit * 10
	if rest := n % unit; rest > 0 {
		t += (rest*10 + unit - 1) / unit
	}
	if t%10 == 0 {
		return strconv.FormatInt(t/10, 10)
	}
	return strconv.FormatInt(t/10, 10) + "." + strconv.FormatInt(t%10, 10)
}
