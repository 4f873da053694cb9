package train

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/config"
)

// progressRecorder is a Progress and EvalProgress writing every call as a
// line.
type progressRecorder struct{ calls []string }

func (p *progressRecorder) StartEpoch(epoch, epochs, batches, done int) {
	p.calls = append(p.calls, fmt.Sprintf("epoch %d/%d %d %d", epoch, epochs, batches, done))
}
func (p *progressRecorder) SetBatchSize(n int) { p.calls = append(p.calls, fmt.Sprintf("batch %d", n)) }
func (p *progressRecorder) Step(int, float64)  {}
func (p *progressRecorder) Clear()             {}
func (p *progressRecorder) EndEpoch()          { p.calls = append(p.calls, "end epoch") }
func (p *progressRecorder) StartEval(batches, images int) {
	p.calls = append(p.calls, fmt.Sprintf("eval %d %d", batches, images))
}
func (p *progressRecorder) EvalStep(done, n, correct int) {
	p.calls = append(p.calls, fmt.Sprintf("eval step %d %d", done, n))
	if correct < 0 || correct > n {
		p.calls = append(p.calls, fmt.Sprintf("bad correct %d of %d", correct, n))
	}
}
func (p *progressRecorder) EndEval() { p.calls = append(p.calls, "end eval") }

func TestRunAndEvaluateReportProgress(t *testing.T) {
	heavyOnRef(t)
	c := narrowConfig(t)
	c.Epochs = 1
	rec := &progressRecorder{}
	res, _, err := runTiny(t, c, Options{Progress: rec})
	require.NoError(t, err)
	// 256 training images in batches of 32, then the test pass over 128.
	assert.Equal(t, []string{"batch 32", "epoch 1/1 8 0", "end epoch", "eval 4 128",
		"eval step 1 32", "eval step 2 64", "eval step 3 96", "eval step 4 128", "end eval"}, rec.calls)

	q := narrowConfig(t)
	q.Epochs, q.Quiet = 1, true
	quiet := &progressRecorder{}
	_, _, err = runTiny(t, q, Options{Progress: quiet})
	require.NoError(t, err)
	assert.Empty(t, quiet.calls, "a quiet run shows no progress")

	ec := config.Default()
	ec.Backend, ec.BatchSize = []string{"ref"}, 50
	ev := &progressRecorder{}
	rep, err := EvalCheckpoint(context.Background(), EvalOptions{Config: ec, Checkpoint: res.Checkpoint, TestSet: synthSet(2, 128), Progress: ev})
	require.NoError(t, err)
	assert.Equal(t, []string{"eval 3 128", "eval step 1 50", "eval step 2 100", "eval step 3 128", "end eval"}, ev.calls)
	assert.Equal(t, 128, rep.N)
}
