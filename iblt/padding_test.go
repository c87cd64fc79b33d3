package iblt

import (
	"errors"
	"testing"
)

// TestPadding_EveryByteChecked: every byte of the last key word above the
// key length is padding, zero in any table built by Insert and Delete.
// Setting any one of them, the first included, makes the cell impure for
// List (which must then fail, not list the key and clear the byte) and
// the encoding invalid for UnmarshalBinary, for every key length that
// leaves padding.
func TestPadding_EveryByteChecked(t *testing.T) {
	for keyLen := 1; keyLen <= 16; keyLen++ {
		if keyLen%8 == 0 {
			continue // no padding
		}
		key := make([]byte, keyLen)
		for i := range key {
			key[i] = byte(i + 1)
		}
		last := wKey + (keyLen-1)/8       // the word holding the key's last byte
		for b := keyLen % 8; b < 8; b++ { // padding bytes of that word
			tb := MustNew(Params{Cells: 1, Hashes: 1, KeyLen: keyLen, Seed: 4})
			if err := tb.Insert(key, 1); err != nil {
				t.Fatal(err)
			}
			tb.Words()[last] |= 1 << (8 * b)
			if ins, del, err := tb.List(); err == nil {
				t.Errorf("key length %d, padding byte %d set: listed %d+%d with no error", keyLen, b, len(ins), len(del))
			}
			data, err := tb.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if err := new(Table).UnmarshalBinary(data); !errors.Is(err, ErrFormat) {
				t.Errorf("key length %d, padding byte %d set: UnmarshalBinary gave %v, want an error matching ErrFormat", keyLen, b, err)
			}
		}
	}
}
