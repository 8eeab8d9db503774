# WSGI entry of cinder-api for uwsgi (cinder-common's cinder-wsgi, not installed).
from cinder.wsgi.wsgi import initialize_application

application = initialize_application()
