"""ML2 mechanism driver of the ferry lab: binds every port, no agents.

The lab runs Neutron without any L2 agent. This driver makes every port
binding succeed (vif type 'ovs') and the port ACTIVE, which is all Nova's
fake virt driver needs. Registered through the entry point
neutron.ml2.mechanism_drivers: ferry_lab (a dist-info written by os-lab).
"""
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api


class FerryLabMechanismDriver(api.MechanismDriver):

    def initialize(self):
        pass

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(segment[api.ID], 'ovs',
                                {'port_filter': True,
                                 'ovs_hybrid_plug': False},
                                status=constants.PORT_STATUS_ACTIVE)
            return
