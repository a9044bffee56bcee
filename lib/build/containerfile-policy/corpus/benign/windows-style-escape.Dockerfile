# escape=`
FROM python:3.12-slim
RUN pip install `
    flask `
    gunicorn
COPY --from=0 /etc/hostname /tmp/x
COPY . C:\app
CMD ["python", "app.py"]
