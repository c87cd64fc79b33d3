package bpfload

import (
	"bytes"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// structFlowKey is the struct flow_key of flow.h that a kernel writes for
// k: the canonical bytes zero padded to 40, then the length.
func structFlowKey(k flow.Key) []byte {
	a, n := k.Array()
	b := make([]byte, 41)
	copy(b, a[:n])
	b[40] = byte(n)
	return b
}

// FuzzFlowKey feeds arbitrary bytes to FlowKey, which decodes what the
// kernels write into maps and ring buffers. It accepts exactly the 41-byte
// prefixes that some key encodes to (any trailing bytes are the struct's
// own padding and ignored), and the key it returns encodes back to them.
func FuzzFlowKey(f *testing.F) {
	for _, k := range []flow.Key{
		flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoTCP),
		flow.MustKey("2001:db8::1", "2001:db8::2", 443, 50000, flow.ProtoUDP),
	} {
		b := structFlowKey(k)
		f.Add(append(b, make([]byte, 7)...)) // the 48-byte value the kernels use
		f.Add(b)
		f.Add(b[:40]) // no length byte
		bad := bytes.Clone(b)
		bad[39] = 1 // padding not zero
		f.Add(bad)
		bad = bytes.Clone(b)
		bad[40] = 40 // a length past the key
		f.Add(bad)
	}
	f.Add([]byte{})
	f.Add(make([]byte, 41)) // the zero Key's bytes: length 0
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := FlowKey(b)
		if err != nil {
			if k != (flow.Key{}) {
				t.Fatalf("% x: key %v with error %v", b, k, err)
			}
			if len(b) < 41 {
				return
			}
			if n := int(b[40]); n == flow.KeyLen4 || n == flow.KeyLen6 {
				if c, cerr := flow.KeyFromBytes(b[:n]); cerr == nil && bytes.Equal(structFlowKey(c), b[:41]) {
					t.Fatalf("% x: error %v, but it is the struct flow_key of %v", b, err, c)
				}
			}
			return
		}
		if len(b) < 41 || !k.IsValid() {
			t.Fatalf("% x (%d bytes): accepted as key %v", b, len(b), k)
		}
		if got := structFlowKey(k); !bytes.Equal(got, b[:41]) {
			t.Fatalf("% x: key %v, whose struct flow_key is % x", b, k, got)
		}
	})
}
