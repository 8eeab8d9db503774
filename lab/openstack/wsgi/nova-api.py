# WSGI entry of nova-api for uwsgi (nova-common's nova-api-wsgi, not installed).
from nova.api.openstack.compute.wsgi import init_application

application = init_application()
