from docker.io/library/python:3.11-alpine
workdir /srv
copy requirements.txt /srv/
run pip install -r requirements.txt
add app.tar.gz /srv/
copy . /srv
expose 5000
healthcheck --interval=30s --timeout=3s CMD wget -qO- http://localhost:5000/ || exit 1
cmd gunicorn -b 0.0.0.0:$PORT app:app
