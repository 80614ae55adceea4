"""The deployment files are valid: systemd units (systemd-analyze verify), gunicorn's settings (its own
check, the masking access logger included) and nginx's site (nginx -t), with each tool that is here."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
INSTALL_PATH = "/srv/portail/app/"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)  # where the README installs the portal: absent on a test machine


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze absent")
def test_systemd_units_verify():
    units = sorted(str(p) for p in DEPLOY.iterdir() if p.suffix in (".service", ".timer"))
    run = subprocess.run(["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True)
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    problems = [line for line in lines if not (INSTALL_PATH in line and "is not executable" in line)]
    assert not problems, problems  # an unknown key, a bad value, a missing unit…
    assert run.returncode == 0 or lines, run  # a failure is only ever the absent installation


def test_units_keep_files_private_and_run_as_portail():
    for name in ("portail-web.service", "portail-worker.service"):
        text = (DEPLOY / name).read_text()
        assert "UMask=0077" in text and "User=portail" in text and "EnvironmentFile=/etc/portail.env" in text, name


def test_gunicorn_settings_load_with_the_app():
    env = dict(os.environ, SECRET_KEY="x" * 64, DATABASE_URL="sqlite:////tmp/portail-check.db")
    run = subprocess.run([sys.executable, "-m", "gunicorn", "--check-config", "--config", "deploy/gunicorn.conf.py",
                          "app:create_app()"], cwd=ROOT, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.skipif(not NGINX, reason="nginx absent (make test installs it when run as root)")
def test_nginx_site_parses(tmp_path):
    site = (DEPLOY / "nginx.conf").read_text().replace("listen 443 ssl http2;", "listen 8443;")
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
                    f"http {{\naccess_log {tmp_path}/access.log;\n{site.replace('/var/log/nginx/', str(tmp_path) + '/')}\n}}\n")
    run = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
