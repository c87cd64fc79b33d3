package bpfload

import (
	"encoding/binary"
	"testing"
)

// The refusal of a pinned kernel's other options names each constant that
// differs, with both values, and no constant that agrees.
func TestConstDiff(t *testing.T) {
	u32 := func(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
	u64 := func(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }
	vars := []constVar{{"a_k", u32(3)}, {"b_flag", []byte{1}}, {"c_seed", u64(0xb101)}, {"d_odd", []byte{1, 2, 3}}}
	var pinned []byte
	for _, b := range [][]byte{u32(4), {1}, u64(0xb100), {1, 2, 4}} {
		pinned = append(pinned, b...)
	}
	got := constDiff(vars, pinned)
	want := "a_k is 4 there, 3 here; c_seed is 0xb100 there, 0xb101 here; d_odd is 010204 there, 010203 here"
	if got != want {
		t.Errorf("constDiff = %q, want %q", got, want)
	}
	if got := constText(binary.NativeEndian.AppendUint16(nil, 7)); got != "7" {
		t.Errorf("constText of a 2-byte 7 = %q", got)
	}
}
