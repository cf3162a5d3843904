"""Helpers shared by the models, the converters and the tools."""
from .model_wrappers import strip_wrapper_segment, unwrap_model
from .plain_data import plain
from .state_dict_fit import StateDictFit

__all__ = ['StateDictFit', 'plain', 'strip_wrapper_segment', 'unwrap_model']
