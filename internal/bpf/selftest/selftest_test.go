//go:build linux

package selftest

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// farTerms is selftest_far of selftest.bpf.c.
var farTerms = [...]uint32{65537, 92682, 0x80000000, 0xffffffff}

// TestKernel_GoldenVectors runs every golden vector of flow/testdata through
// hash.h in the kernel: xxHash64 of the key, four mixes, four indexes and
// four bit-array (triple-hashing) indexes, then the mix and bit-array index
// of the terms in farTerms, compared with package flow's. On each vector's
// hash it also runs the helpers the kernels derive bits with, whose Go
// twins the golden vectors do not reach: dp_bit_next, the incremental
// bit-array derivation of bloom/xdp's classic filter, for 32 indexes
// against flow.BitIndex; and blocked.h's dp_block_set (atomic and plain),
// dp_block_test_upto and dp_block_test, for k from 1 to 32, against the
// block bloom.Blocked sets for the hash. k is a load-time constant, as in
// the kernels, so the program is loaded once a k, and vector n runs with
// k = n%32 + 1.
func TestKernel_GoldenVectors(t *testing.T) {
	spec, err := loadSelftest()
	if err != nil {
		t.Fatal(err)
	}
	vs := readVectors(t)
	for k := uint32(1); k <= bloom.MaxHashes; k++ {
		var objs selftestObjects
		kerneltest.Load(t, spec, map[string]any{selftestVarSelftestK: k}, &objs)
		for n := int(k) - 1; n < len(vs); n += bloom.MaxHashes {
			check(t, &objs, vs[n], k)
		}
		objs.Close()
	}
	t.Logf("%d golden vectors agree between Go and the kernel", len(vs))
}

// vector is one line of flow/testdata/hash_vectors.txt.
type vector struct {
	keyHex   string
	key      []byte
	seed     uint64
	hash     uint64
	mix      [4]uint64
	idx, dbl [4]uint32
}

// readVectors reads the golden vectors, failing t if there are none.
func readVectors(t *testing.T) []vector {
	f, err := os.Open("../../../flow/testdata/hash_vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var v vector
		if _, err := fmt.Sscanf(line, "%s %x %x %x %x %x %x %d %d %d %d %d %d %d %d", &v.keyHex, &v.seed, &v.hash,
			&v.mix[0], &v.mix[1], &v.mix[2], &v.mix[3], &v.idx[0], &v.idx[1], &v.idx[2], &v.idx[3],
			&v.dbl[0], &v.dbl[1], &v.dbl[2], &v.dbl[3]); err != nil {
			t.Fatalf("vector %q: %v", line, err)
		}
		if v.key, err = hex.DecodeString(v.keyHex); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("no golden vectors read")
	}
	return vs
}

// check runs the selftest program of objs, loaded with k in-block bits,
// on vector v and compares its results with package flow's and bloom's.
func check(t *testing.T, objs *selftestObjects, v vector, k uint32) {
	t.Helper()
	var in selftestSelftestIn
	copy(in.Key.Bytes[:], v.key)
	in.Key.Len = uint8(len(v.key))
	in.Seed = v.seed
	in.M = 1000003
	if err := objs.SelftestInput.Put(uint32(0), &in); err != nil {
		t.Fatal(err)
	}
	if verdict, _ := kerneltest.Run(t, objs.XdpSelftest, make([]byte, 64)); verdict != 2 {
		t.Fatalf("selftest returned verdict %d", verdict)
	}
	var out selftestSelftestOut
	if err := objs.SelftestOutput.Lookup(uint32(0), &out); err != nil {
		t.Fatal(err)
	}
	keyHex, seed, hash := v.keyHex, v.seed, v.hash
	if out.Hash != hash || out.Mix != v.mix || out.Index != v.idx || out.BitIndex != v.dbl {
		t.Errorf("key %s seed %#x: kernel hash %#x mix %x index %v double %v, want %#x %x %v %v",
			keyHex, seed, out.Hash, out.Mix, out.Index, out.BitIndex, hash, v.mix, v.idx, v.dbl)
	}
	// The far terms (selftest_far in selftest.bpf.c), against the Go
	// functions: their 32-bit arithmetic shows only there.
	for j, i := range farTerms {
		if got, want := out.MixFar[j], flow.Mix(hash, i); got != want {
			t.Errorf("key %s seed %#x: kernel dp_mix(h, %d) = %#x, flow.Mix %#x", keyHex, seed, i, got, want)
		}
		if got, want := out.BitIndexFar[j], flow.BitIndex(hash, i, in.M); got != want {
			t.Errorf("key %s seed %#x: kernel dp_bit_index(h, %d, m) = %d, flow.BitIndex %d", keyHex, seed, i, got, want)
		}
	}
	for i, got := range out.BitNext {
		if want := flow.BitIndex(hash, uint32(i), in.M); got != want {
			t.Errorf("key %s seed %#x: kernel dp_bit_next, index %d: %d, flow.BitIndex %d", keyHex, seed, i, got, want)
		}
	}
	checkBlock(t, fmt.Sprintf("key %s seed %#x k %d", keyHex, seed, k), hash, k, &out)
}

// checkBlock compares the kernel's blocked.h results in out, for hash and
// k, with bloom.Blocked's: a filter of one block, where every key's block
// is block 0.
func checkBlock(t *testing.T, what string, hash uint64, k uint32, out *selftestSelftestOut) {
	t.Helper()
	f := bloom.MustNewBlocked(bloom.Params{Bits: bloom.BlockBits, Hashes: int(k), Seed: 1})
	if f.TestAndAddHash(hash) {
		t.Fatalf("%s: bloom.Blocked finds the key in an empty block", what)
	}
	want := [8]uint64(f.Words())
	if out.Block != want || out.BlockPlain != want {
		t.Errorf("%s: kernel dp_block_set sets block %x (atomic), %x (plain); bloom.Blocked %x", what, out.Block, out.BlockPlain, want)
	}
	if out.BlockClear != 0x101 || out.BlockAgain != 0 {
		t.Errorf("%s: kernel dp_block_set found a bit clear %#x on the empty block, %#x on its own; want 0x101 (atomic and plain) and 0", what, out.BlockClear, out.BlockAgain)
	}
	wantK := uint32(1) // dp_block_test, with k a constant: up to 16
	if k > 16 {
		wantK = 2
	}
	if out.BlockTest != 1 || out.BlockTestK != wantK {
		t.Errorf("%s: kernel tests the key it set: dp_block_test_upto %d, dp_block_test %d; want 1, %d", what, out.BlockTest, out.BlockTestK, wantK)
	}
	// Less its lowest set bit, the block misses the key, in Go too.
	for i, w := range want {
		if w != 0 {
			f.Words()[i] = w & (w - 1)
			break
		}
	}
	if f.ContainsHash(hash) {
		t.Fatalf("%s: bloom.Blocked finds the key in its block less a bit", what)
	}
	if wantK == 1 {
		wantK = 0
	}
	if out.BlockMiss != 0 || out.BlockMissK != wantK {
		t.Errorf("%s: kernel tests the key in its block less a bit: dp_block_test_upto %d, dp_block_test %d; want 0, %d", what, out.BlockMiss, out.BlockMissK, wantK)
	}
}
