package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeTerminals makes isTerminalFD answer true for fds only, for the
// test's duration.
func fakeTerminals(t *testing.T, fds ...int) {
	t.Helper()
	old := isTerminalFD
	t.Cleanup(func() { isTerminalFD = old })
	isTerminalFD = func(fd int) bool {
		for _, f := range fds {
			if f == fd {
				return true
			}
		}
		return false
	}
}

func TestTermProgressDecidesOnStderrAlone(t *testing.T) {
	fakeTerminals(t, int(os.Stderr.Fd()))
	assert.NotNil(t, newTermProgress(os.Stderr), "stderr a terminal, stdout piped: a bar")
	assert.Nil(t, newTermProgress(os.Stdout))
	assert.Nil(t, newTermProgress(&bytes.Buffer{}))

	fakeTerminals(t, int(os.Stdout.Fd()))
	assert.Nil(t, newTermProgress(os.Stderr), "stdout a terminal, stderr redirected: no bar")
}

func TestNewProgressChoosesBarOrLogLines(t *testing.T) {
	fakeTerminals(t, int(os.Stderr.Fd()))
	bar := newTermProgress(os.Stderr)
	log := newLogger(&bytes.Buffer{}, "info", false, nil)
	assert.Same(t, bar, newProgress(bar, log, false))
	assert.Nil(t, newProgress(bar, log, true), "quiet: none")
	lp, ok := newProgress(nil, log, false).(*logProgress)
	require.True(t, ok, "no terminal: log lines")
	assert.Equal(t, logProgressInterval, lp.interval)
}

// fakeClock is a clock that tests advance by hand.
type fakeClock struct{ t time.Time }

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time { return c.t }

func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// takeLines returns the lines written to b and empties it.
func takeLines(b *bytes.Buffer) []string {
	s := strings.TrimRight(b.String(), "\n")
	b.Reset()
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestLogProgressTrainingLinesAtInterval(t *testing.T) {
	var buf bytes.Buffer
	clk := newFakeClock()
	p := newLogProgress(newLogger(&buf, "info", false, nil), 30*time.Second, clk.now)
	p.SetBatchSize(32)
	p.StartEpoch(2, 10, 100, 0)
	var got []string
	for step := 1; step <= 7; step++ {
		clk.advance(10 * time.Second)
		p.Step(step, 2.5-0.1*float64(step))
		lines := takeLines(&buf)
		if step%3 != 0 {
			assert.Empty(t, lines, "step %d: no line before the interval", step)
		}
		got = append(got, lines...)
	}
	// 96 images in 30 s; 97 steps left at 10 s each.
	assert.Equal(t, []string{
		"info: training epoch=2/10 step=3/100 loss=2.2000 images/s=3.2 eta=16m10s",
		"info: training epoch=2/10 step=6/100 loss=1.9000 images/s=3.2 eta=15m40s",
	}, got)
	p.Clear()
	p.EndEpoch()
	assert.Empty(t, takeLines(&buf))

	// A resumed epoch counts only the steps of this process.
	p.SetBatchSize(8)
	p.StartEpoch(1, 1, 50, 40)
	clk.advance(20 * time.Second)
	p.Step(41, 1)
	assert.Empty(t, takeLines(&buf))
	clk.advance(20 * time.Second)
	p.Step(42, 0.5)
	assert.Equal(t, []string{"info: training epoch=1/1 step=42/50 loss=0.5000 images/s=0.4 eta=2m40s"}, takeLines(&buf))
}

func TestLogProgressEvaluationLines(t *testing.T) {
	var buf bytes.Buffer
	clk := newFakeClock()
	p := newLogProgress(newLogger(&buf, "info", false, nil), 30*time.Second, clk.now)
	p.StartEval(10, 1000)
	for b := 1; b <= 10; b++ {
		clk.advance(15 * time.Second)
		p.EvalStep(b, 100*b, 90*b)
	}
	p.EndEval()
	got := takeLines(&buf)
	require.Len(t, got, 5, "one line every 30 s of a 150 s evaluation")
	assert.Equal(t, "info: evaluating batch=2/10 images=200/1000 acc=0.900 images/s=6.7 eta=2m0s", got[0])
	assert.Equal(t, "info: evaluating batch=10/10 images=1000/1000 acc=0.900 images/s=6.7 eta=0s", got[4])
}
