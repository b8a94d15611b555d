"""nginx in front of Portico instances, round robin: README's "A minimal
nginx" (failover to the next instance included) on a prefix of its own, for
a throw-away server, plus `X-Forwarded-Proto` and a 2 s connect timeout;
used by the multi-instance test (instances.py) and by the benchmark
(scripts/bench.sh). Python 3 standard library only.

    python3 scripts/instances/nginx.py start WORKDIR PORT UPSTREAM_PORT...
    python3 scripts/instances/nginx.py stop WORKDIR
"""

import http.client
import os
import shutil
import subprocess
import sys
import time

# Debian's nginx lives in /usr/sbin, which a user's PATH may lack.
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Nginx:
    def __init__(self, workdir, port=None, upstreams=()):
        self.prefix = os.path.join(workdir, "nginx")
        self.conf = os.path.join(self.prefix, "nginx.conf")
        self.port = port
        self.upstreams = list(upstreams)

    def write_conf(self):
        tmp = os.path.join(self.prefix, "tmp")
        os.makedirs(tmp, exist_ok=True)
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;"
                            for p in self.upstreams)
        user = "user root;\n" if os.geteuid() == 0 else ""
        with open(self.conf, "w") as f:
            f.write(f"""{user}worker_processes 1;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream portico {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass http://portico;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout 2s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
""")

    def start(self):
        """Writes the configuration, starts nginx and waits until it answers
        (any status: the instances behind it may still be starting)."""
        self.write_conf()
        p = subprocess.run([NGINX, "-p", self.prefix, "-c", self.conf],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise RuntimeError(f"nginx did not start: {p.stderr.strip()[-500:]}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2.0)
            try:
                c.request("GET", "/healthz")
                c.getresponse().read()
                return
            except OSError:
                time.sleep(0.05)
            finally:
                c.close()
        raise RuntimeError(f"nginx does not answer on :{self.port}")

    def stop(self):
        subprocess.run([NGINX, "-p", self.prefix, "-c", self.conf, "-s", "stop"],
                       capture_output=True, timeout=30)


def main(argv):
    try:
        if len(argv) >= 5 and argv[1] == "start":
            Nginx(argv[2], int(argv[3]), [int(p) for p in argv[4:]]).start()
        elif len(argv) == 3 and argv[1] == "stop":
            Nginx(argv[2]).stop()
        else:
            sys.exit(__doc__)
    except ValueError:
        sys.exit(__doc__)
    except RuntimeError as e:
        sys.exit(str(e))


if __name__ == "__main__":
    main(sys.argv)
