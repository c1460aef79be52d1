from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SIMULATION_TIME_SCALE = env.float("SIMULATION_TIME_SCALE", default=0.0005)
