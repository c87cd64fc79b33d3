package bloom

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// countingEncodedSize is the length of a CountingFilter's encoding,
// computed in uint64: header and trailer, 8 bytes a word of counters.
func countingEncodedSize(m uint64, width int) uint64 {
	return headerLen + trailerLen + 8*((m*uint64(width)+63)/64)
}

// TestNewCounting_HugeCounters: NewCounting either builds a filter whose
// counters take exactly what m and the width say, or refuses before
// allocating. On a 32-bit platform (GOARCH=386) MaxBits counters of 8 or
// 16 bits are 4 and 8 GiB: NewCounting panicked in make ("len out of
// range"); 2^30+1 16-bit counters made 2 GiB of words, whose SizeBytes
// (8 * (2^28+1)) wrapped negative in an int; and from 1,073,741,809
// 16-bit counters, one past the limit, the length of MarshalBinary's
// result (24 bytes more) did. On a 64-bit platform these filters are
// valid, and too large to build in a test.
func TestNewCounting_HugeCounters(t *testing.T) {
	cases := []struct {
		m     uint64
		width int
	}{
		{MaxBits, 16}, {MaxBits, 8},
		{1 << 31, 16}, {1<<30 + 1, 16}, {1073741809, 16},
		{1 << 32 / 2, 8}, {2147483617, 8},
		{MaxBits, 4}, {4294967233, 4},
	}
	for _, c := range cases {
		p := Params{Bits: c.m, Hashes: 4}
		size := countingEncodedSize(c.m, c.width)
		if size <= math.MaxInt {
			if err := p.Validate(); err != nil {
				t.Errorf("%d %d-bit counters: %v", c.m, c.width, err)
			}
			continue // valid, and gigabytes
		}
		f, err := NewCounting(p, c.width)
		if err == nil {
			t.Errorf("NewCounting(%d counters of %d bits): a filter of %d bytes (SizeBytes %d), want an error (encoding %d bytes)", c.m, c.width, 8*len(f.Words()), f.SizeBytes(), size)
		} else if !strings.Contains(err.Error(), "counters") || !strings.Contains(err.Error(), strconv.Itoa(c.width)+"-bit") {
			t.Errorf("NewCounting(%d counters of %d bits): error %q does not name the counters and their width", c.m, c.width, err)
		}
	}
}

// TestMaxCounters: the limit NewCounting applies is the largest number
// of counters whose encoding fits in an int, at most MaxBits: MaxBits on
// a 64-bit platform, less for every width on a 32-bit one.
func TestMaxCounters(t *testing.T) {
	for _, width := range []int{4, 8, 16} {
		most := maxCounters(width)
		if most > MaxBits || countingEncodedSize(most, width) > math.MaxInt {
			t.Errorf("width %d: limit %d exceeds MaxBits or an int", width, most)
		}
		if most < MaxBits && countingEncodedSize(most+1, width) <= math.MaxInt {
			t.Errorf("width %d: limit %d, but %d counters fit too", width, most, most+1)
		}
		if strconv.IntSize == 64 && most != MaxBits {
			t.Errorf("width %d: limit %d on a 64-bit platform, want MaxBits", width, most)
		}
	}
}
