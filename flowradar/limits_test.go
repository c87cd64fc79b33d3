package flowradar

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/bloom"
)

// platformMaxFlows returns the most flows whose ParamsFor parameters are
// valid on this platform, by bisection: MaxFlows on a 64-bit platform,
// fewer on a 32-bit one, where a table's encoding must fit in an int.
func platformMaxFlows(t *testing.T) int {
	t.Helper()
	if ParamsFor(MaxFlows, 1).Validate() == nil {
		return MaxFlows
	}
	if strconv.IntSize == 64 {
		t.Fatalf("ParamsFor(MaxFlows) invalid on a 64-bit platform: %v", ParamsFor(MaxFlows, 1).Validate())
	}
	lo, hi := 1, MaxFlows // valid, invalid
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if ParamsFor(mid, 1).Validate() == nil {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// TestParamsFor_PlatformLimit: the 32-bit limit on flows is the one the
// documentation of MaxFlows states.
func TestParamsFor_PlatformLimit(t *testing.T) {
	want := MaxFlows
	if strconv.IntSize == 32 {
		want = 25_516_676
	}
	if got := platformMaxFlows(t); got != want {
		t.Errorf("ParamsFor is valid up to %d flows, the documentation says %d", got, want)
	}
}

// TestParams_SizeBytesHuge: SizeBytes is FilterBits/8 + 56*Cells exactly
// when that fits in an int, and math.MaxInt otherwise; it never wraps.
// Before, it computed int(p.Cells)*CellBytes: on a 32-bit platform the
// largest valid table (MaxCells cells, MaxFilterBits bits), 4,294,967,232
// bytes, came out as -64, and Cells of 2^31 or more went negative before
// the product. On a 64-bit platform no uint32 Cells and FilterBits
// overflow (the largest is 241,055,039,431 bytes), and the test checks
// the exact values there.
func TestParams_SizeBytesHuge(t *testing.T) {
	for _, p := range []Params{
		{Cells: MaxCells, Hashes: 4, FilterBits: MaxFilterBits, FilterHashes: 7},
		{Cells: MaxCells, Hashes: 4, FilterBits: bloom.BlockBits, FilterHashes: 7},
		{Cells: 38347920, Hashes: 4, FilterBits: bloom.BlockBits, FilterHashes: 7},
		{Cells: 38347924, Hashes: 4, FilterBits: bloom.BlockBits, FilterHashes: 7},
		{Cells: 1 << 31, FilterBits: 1 << 31},
		{Cells: math.MaxInt32 + 1, FilterBits: math.MaxUint32},
		{Cells: math.MaxUint32, FilterBits: math.MaxUint32},
		{Cells: math.MaxUint32},
	} {
		want := uint64(p.FilterBits/8) + CellBytes*uint64(p.Cells)
		got := p.SizeBytes()
		if want <= math.MaxInt && uint64(got) != want || want > math.MaxInt && got != math.MaxInt {
			t.Errorf("%v: SizeBytes %d, want %d (math.MaxInt when above it)", p, got, want)
		}
	}
}

// TestParams_SizeLimit: Validate accepts a table whose encoding fits in
// an int and refuses, naming cells and the limit, the next multiple of
// Hashes past it. On a 64-bit platform the limit is MaxCells whatever the
// filter; on a 32-bit one it is lower, and Validate accepted up to
// MaxCells (whose tables NewTable could not allocate and whose SizeBytes
// wrapped).
func TestParams_SizeLimit(t *testing.T) {
	for _, bits := range []uint32{bloom.BlockBits, ParamsFor(1e6, 1).FilterBits, 1 << 31, MaxFilterBits} {
		for _, k := range []int{1, 3, 4, 8} {
			most := uint64(MaxCells)
			if headerBytes+uint64(bits/8)+CellBytes*most > math.MaxInt {
				most = (math.MaxInt - headerBytes - uint64(bits/8)) / CellBytes
			}
			most -= most % uint64(k)
			if strconv.IntSize == 64 && most != MaxCells/uint64(k)*uint64(k) {
				t.Fatalf("bits %d, k %d: limit %d on a 64-bit platform, want %d", bits, k, most, MaxCells/k*k)
			}
			p := Params{Cells: uint32(most), Hashes: k, FilterBits: bits, FilterHashes: 7}
			if err := p.Validate(); err != nil {
				t.Errorf("%v: %v", p, err)
			} else if want := uint64(bits/8) + CellBytes*most; uint64(p.SizeBytes()) != want {
				t.Errorf("%v: SizeBytes %d, want %d", p, p.SizeBytes(), want)
			}
			p.Cells += uint32(k)
			err := p.Validate()
			if !errors.Is(err, ErrParams) || !strings.Contains(err.Error(), "cells must be") {
				t.Errorf("%v (%d bytes): Validate gave %v, want ErrParams naming cells", p, headerBytes+uint64(bits/8)+CellBytes*uint64(p.Cells), err)
			} else if p.Cells <= MaxCells && !strings.Contains(err.Error(), "at most "+strconv.FormatUint(most, 10)) {
				t.Errorf("%v: error %q does not name the limit %d", p, err, most)
			}
		}
	}
}

// TestNewTable_TooLargeForInt: parameters whose table does not fit in an
// int are refused by NewTable, New and UnmarshalBinary before anything is
// allocated (on a 32-bit platform; on a 64-bit one these tables are
// valid, and too large to build in a test).
func TestNewTable_TooLargeForInt(t *testing.T) {
	for _, p := range []Params{
		{Cells: MaxCells, Hashes: 4, FilterBits: MaxFilterBits, FilterHashes: 7},
		{Cells: MaxCells, Hashes: 4, FilterBits: bloom.BlockBits, FilterHashes: 7},
		ParamsFor(MaxFlows, 1),
	} {
		if headerBytes+uint64(p.FilterBits/8)+CellBytes*uint64(p.Cells) <= math.MaxInt {
			if err := p.Validate(); err != nil {
				t.Errorf("%v: %v", p, err)
			}
			continue
		}
		if _, err := NewTable(p); !errors.Is(err, ErrParams) {
			t.Errorf("NewTable(%v): %v, want ErrParams", p, err)
		}
		if _, err := New(p); !errors.Is(err, ErrParams) {
			t.Errorf("New(%v): %v, want ErrParams", p, err)
		}
		var tab Table
		if err := tab.UnmarshalBinary(encodedHeader(p)); !errors.Is(err, ErrFormat) {
			t.Errorf("UnmarshalBinary of a header of %v: %v, want ErrFormat", p, err)
		}
	}
}

// encodedHeader returns the header of the encoding of a table of p.
func encodedHeader(p Params) []byte {
	b := append([]byte(nil), magic[:]...)
	b = append(b, byte(p.Hashes), byte(p.FilterHashes), 0, 0)
	b = append(b, byte(p.Cells), byte(p.Cells>>8), byte(p.Cells>>16), byte(p.Cells>>24))
	b = append(b, byte(p.FilterBits), byte(p.FilterBits>>8), byte(p.FilterBits>>16), byte(p.FilterBits>>24))
	return append(b, make([]byte, 8)...)
}

// TestNewLeafSpine_HugeCounts: switch counts whose sum wraps around an
// int are refused, not allocated. Before, leaves = math.MaxInt with one
// spine summed to math.MinInt, passed the check against 65,536 switches
// and panicked in make ("len out of range"), on every platform.
func TestNewLeafSpine_HugeCounts(t *testing.T) {
	p := ParamsFor(100, 1)
	for _, c := range [][2]int{
		{math.MaxInt, 1}, {1, math.MaxInt}, {math.MaxInt, math.MaxInt},
		{math.MaxInt32, 1}, {math.MaxInt/2 + 1, math.MaxInt/2 + 1},
		{1 << 16, 1}, {1, 1 << 16}, {1<<16 + 1, 0},
	} {
		if _, err := NewLeafSpine(c[0], c[1], p, 1); !errors.Is(err, ErrParams) {
			t.Errorf("NewLeafSpine(%d, %d): %v, want ErrParams", c[0], c[1], err)
		}
	}
}
