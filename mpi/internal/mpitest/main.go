//go:build mpi

// Command mpitest exercises package mpi under mpirun for mpi's tests: each
// rank writes what it saw as JSON to rank-N.json in the -out folder (files
// rather than stdout: mpirun drops the output of ranks it is killing).
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/crossgrad/crossgrad/mpi"
)

// Value is rank's element i of the buffers the sum mode reduces; the test
// computes the same. Magnitudes spread over six decades, so the order of
// the additions shows in the bits.
func Value(rank, i int) float32 {
	return float32(math.Sin(float64(rank*7919+i)) * math.Pow(10, float64(i%7-3)))
}

// Lengths are the buffer lengths the sum mode reduces: odd ones, below and
// above the 64 KiB where Open MPI may change algorithm.
var Lengths = []int{1, 7, 1001, 65537, 300001}

// result is one rank's line.
type result struct {
	Rank          int          `json:"rank"`
	Size          int          `json:"size"`
	Sums          []sumResult  `json:"sums,omitempty"`
	AgreeSame     *bool        `json:"agree_same,omitempty"`
	AgreeDiff     *bool        `json:"agree_diff,omitempty"`
	Gather        []string     `json:"gather,omitempty"`
	SegvRecovered bool         `json:"segv_recovered,omitempty"`
	Finalize      []string     `json:"finalize,omitempty"`
	Err           *errorResult `json:"err,omitempty"`
	LaterErr      string       `json:"later_err,omitempty"`
	Seconds       float64      `json:"seconds,omitempty"`
	Signal        string       `json:"signal,omitempty"`
}

type sumResult struct {
	N       int             `json:"n"`
	Digest  string          `json:"digest"`
	Samples map[int]float32 `json:"samples"`
	MaxErr  float64         `json:"max_err"`
}

type errorResult struct {
	Message string `json:"message"`
	Rank    *int   `json:"rank,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

func main() {
	mode := flag.String("mode", "basic", "basic, fail, hang or kill")
	timeout := flag.Duration("timeout", 20*time.Second, "collective timeout")
	flag.StringVar(&outDir, "out", ".", "folder for the rank-N.json files")
	flag.Parse()
	c, err := mpi.Init(*timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpitest:", err)
		os.Exit(1)
	}
	res := result{Rank: c.Rank(), Size: c.Size()}
	code := 0
	switch *mode {
	case "basic":
		err = basic(c, &res)
	case "fail":
		code = fail(c, &res)
	case "hang":
		hang(c, &res, *timeout)
	case "kill":
		kill(c, &res)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mpitest rank %d: %v\n", c.Rank(), err)
		os.Exit(1)
	}
	if *mode != "basic" {
		if ferr := c.Finalize(); ferr != nil {
			res.Finalize = append(res.Finalize, ferr.Error())
		}
	}
	report(res)
	if code != 0 {
		// mpirun aborts the job as soon as one rank exits non-zero, killing
		// the ranks still in MPI_Finalize: leave them time to write.
		time.Sleep(time.Second)
	}
	os.Exit(code)
}

var outDir string

// report writes res to rank-N.json (through a rename, so that a reader
// sees all of it or nothing).
func report(res result) {
	b, err := json.Marshal(res)
	if err == nil {
		path := filepath.Join(outDir, fmt.Sprintf("rank-%d.json", res.Rank))
		if err = os.WriteFile(path+".tmp", b, 0o644); err == nil {
			err = os.Rename(path+".tmp", path)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpitest:", err)
		os.Exit(1)
	}
}

func basic(c *mpi.Comm, res *result) error {
	res.SegvRecovered = recoversNilDeref()
	for _, n := range Lengths {
		s, err := sum(c, n)
		if err != nil {
			return err
		}
		res.Sums = append(res.Sums, s)
	}
	same, err := c.Agree(42)
	if err != nil {
		return err
	}
	diff, err := c.Agree(uint64(42 + c.Rank()))
	if err != nil {
		return err
	}
	res.AgreeSame, res.AgreeDiff = &same, &diff
	mine := []byte(strings.Repeat(fmt.Sprintf("rank %d;", c.Rank()), c.Rank()))
	all, err := c.Allgather(mine)
	if err != nil {
		return err
	}
	for _, b := range all {
		res.Gather = append(res.Gather, string(b))
	}
	res.Finalize = append(res.Finalize, errString(c.Finalize()), errString(c.Finalize()),
		errString(c.AllreduceSum([]float32{1})))
	_, err = mpi.Init(time.Second)
	res.Finalize = append(res.Finalize, errString(err))
	return nil
}

// recoversNilDeref reports whether a nil dereference still panics as Go
// code expects after MPI started (Open MPI's signal handlers kept out).
func recoversNilDeref() (ok bool) {
	defer func() { ok = recover() != nil }()
	var p *int
	fmt.Fprint(os.Stderr, *p)
	return false
}

func sum(c *mpi.Comm, n int) (sumResult, error) {
	buf := make([]float32, n)
	for i := range buf {
		buf[i] = Value(c.Rank(), i)
	}
	if err := c.AllreduceSum(buf); err != nil {
		return sumResult{}, err
	}
	h := sha256.New()
	maxErr := 0.0
	for i, v := range buf {
		bits := math.Float32bits(v)
		h.Write([]byte{byte(bits), byte(bits >> 8), byte(bits >> 16), byte(bits >> 24)})
		ref, mag := 0.0, 0.0
		for r := 0; r < c.Size(); r++ {
			ref += float64(Value(r, i))
			mag += math.Abs(float64(Value(r, i)))
		}
		if mag > 0 {
			maxErr = math.Max(maxErr, math.Abs(float64(v)-ref)/mag)
		}
	}
	samples := map[int]float32{0: buf[0], n / 2: buf[n/2], n - 1: buf[n-1]}
	return sumResult{N: n, Digest: hex.EncodeToString(h.Sum(nil)), Samples: samples, MaxErr: maxErr}, nil
}

// fail: rank 1 fails, from another goroutine, while ranks 0 and 1 wait in
// an allreduce that rank 2 joins only later.
func fail(c *mpi.Comm, res *result) int {
	switch c.Rank() {
	case 1:
		go func() {
			time.Sleep(300 * time.Millisecond)
			c.Fail("disk full on rank 1")
		}()
	case 2:
		time.Sleep(time.Second)
	}
	start := time.Now()
	err := c.AllreduceSum(make([]float32, 1001))
	res.Seconds = time.Since(start).Seconds()
	res.Err = describe(err)
	res.LaterErr = errString(c.AllreduceSum([]float32{1}))
	if c.Rank() == 1 {
		return 3
	}
	return 0
}

// hang: rank 1 does not join the allreduce until after rank 0's timeout.
func hang(c *mpi.Comm, res *result, timeout time.Duration) {
	if c.Rank() == 1 {
		time.Sleep(timeout + timeout/2)
		return
	}
	start := time.Now()
	err := c.AllreduceSum(make([]float32, 7))
	res.Seconds = time.Since(start).Seconds()
	res.Err = describe(err)
}

// kill: rank 1 kills itself with SIGKILL while the others wait in an
// allreduce; they report the signal mpirun sends them. A first allreduce
// makes sure every survivor listens for the signal before rank 1 dies (on
// a loaded machine a survivor could otherwise still be starting).
func kill(c *mpi.Comm, res *result) {
	start := time.Now()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() {
		s := <-sig
		report(result{Rank: c.Rank(), Size: c.Size(), Signal: s.String(), Seconds: time.Since(start).Seconds()})
		os.Exit(2)
	}()
	if err := c.AllreduceSum(make([]float32, 1)); err != nil {
		res.Err = describe(err)
		return
	}
	if c.Rank() == 1 {
		time.Sleep(300 * time.Millisecond)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	res.Err = describe(c.AllreduceSum(make([]float32, 1001)))
}

func describe(err error) *errorResult {
	if err == nil {
		return nil
	}
	d := &errorResult{Message: err.Error()}
	var re *mpi.RankError
	if errors.As(err, &re) {
		d.Rank, d.Reason = &re.Rank, re.Reason
	}
	return d
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
