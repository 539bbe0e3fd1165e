"""`kiosk report NAME` on the school with known answers: text, CSV, XLSX, clear errors."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from click.testing import CliRunner

from kiosk.cli import main
from reports.school import build


def run(config: Path, *args: str, lang: str = "en_US.UTF-8") -> tuple[int, bytes, str]:
    runner = CliRunner()
    r = runner.invoke(main, ["--config", str(config), "report", *args], env={"LANG": lang})
    return r.exit_code, r.stdout_bytes, r.stderr


def test_reports_from_the_command_line(tmp_path: Path) -> None:
    school = build(tmp_path)
    school.store.close()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\npath = "{tmp_path / "kiosk.db"}"\n[scanner]\nsource = "none:"\n'
        '[indicator]\nkind = "none"\n',
        encoding="utf-8",
    )
    code, out, _ = run(config, "classes", "--month", "2026-11")
    lines = out.decode().splitlines()
    assert code == 0 and lines[0].split() == [
        "Class", "Students", "Loans", "Readers", "Loans", "per", "student", "Borrowed", "nothing",
        "With", "a", "card", "Card", "coverage", "%", "Visits",
    ]  # fmt: skip
    assert lines[3].split() == ["三(2)班", "2", "3", "2", "1.5", "0", "1", "50.0", "2"]
    code, out, _ = run(config, "non-borrowers", "--from", "2026-11-01", "--to", "2026-11-30",
                       "--class", "四(1)班", "--format", "csv")  # fmt: skip
    assert (
        code == 0
        and out.decode("utf-8")
        == "\ufeff班级,学生,编号\r\n四(1)班,吴可心,S33\r\n四(1)班,赵天乐,S32\r\n"
    )
    code, out, _ = run(config, "top-books", "--month", "2026-11", "--format", "csv", "--lang", "en")
    assert out.decode("utf-8-sig").splitlines()[:2] == [
        "Rank,Title,Author,Loans,Copies",
        "1,小王子,圣埃克苏佩里,3,2",
    ]
    target = tmp_path / "student.xlsx"
    code, _, err = run(
        config, "student", "--card", "0F00000011", "--format", "xlsx", "-o", str(target)
    )
    assert code == 0 and "3 rows written" in err
    with zipfile.ZipFile(io.BytesIO(target.read_bytes())) as z:
        assert "草房子" in z.read("xl/sharedStrings.xml").decode()
    code, _, err = run(config, "classes", "--from", "2026-11-30", "--to", "2026-11-01")
    assert code == 1 and "ends (2026-11-01) before it starts (2026-11-30)" in err
    code, _, err = run(config, "student", "--card", "nobody", lang="zh_CN.UTF-8")
    assert code == 1 and "没有读者持有卡号或编号 nobody" in err
