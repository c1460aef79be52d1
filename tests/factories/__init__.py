"""factory_boy factories, one module per app; import them from here."""

from .accounts import *  # noqa: F403
from .demand import *  # noqa: F403
from .escrow import *  # noqa: F403
from .financing import *  # noqa: F403
from .listings import *  # noqa: F403
from .negotiation import *  # noqa: F403
from .partners import *  # noqa: F403
from .transfers import *  # noqa: F403
