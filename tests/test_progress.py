"""fclib._util.progress_bar: a bar on a terminal, one line per stage in a log."""
from fclib._util import progress_bar


def test_log_gets_one_line_per_bar(capsys):
    # pytest's captured stderr is not a terminal: the log form
    bar = progress_bar(range(5), desc="training", unit="epoch", progress=True)
    for i in bar:
        bar.set_postfix(acc=f"{i / 5:.3f}")
    rec = progress_bar(total=10, desc="recording", progress=True)
    rec.update(4)
    rec.update(6)
    rec.close()
    rec.close()  # a second close writes nothing more
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("training: 100%") and "5/5" in lines[0] and "acc=0.800" in lines[0]
    assert lines[1].startswith("recording: 100%") and "10/10" in lines[1]


def test_interrupted_loop_reports_where_it_stopped(capsys):
    try:
        for i in progress_bar(range(10), desc="stage", progress=True):
            if i == 4:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("stage:  40%") and "4/10" in lines[0], lines


def test_silent_bar_writes_nothing(capsys):
    bar = progress_bar(total=3, desc="quiet", progress=False)
    bar.update(3)
    bar.close()
    assert list(progress_bar(range(3), progress=False)) == [0, 1, 2]
    assert capsys.readouterr().err == ""
