"""Sentinel-2 L2A tile metadata (MTD_TL.xml) written for the synthetic SAFE products of the ingest tests."""

L2A_TILE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<n1:Level-2A_Tile_ID xmlns:n1="x"><n1:General_Info>
 <TILE_ID>S2B_OPER_MSI_L2A_TL_2BPS_20231120T062022_A035050_T48QXJ_N05.09</TILE_ID>
 <SENSING_TIME>2023-11-20T03:40:05.123Z</SENSING_TIME></n1:General_Info>
 <n1:Geometric_Info><Tile_Geocoding><HORIZONTAL_CS_CODE>EPSG:32648</HORIZONTAL_CS_CODE></Tile_Geocoding>
 <Tile_Angles><Mean_Sun_Angle><ZENITH_ANGLE>45.5</ZENITH_ANGLE><AZIMUTH_ANGLE>160.0</AZIMUTH_ANGLE></Mean_Sun_Angle>
 </Tile_Angles></n1:Geometric_Info>
 <n1:Quality_Indicators_Info><Image_Content_QI><CLOUDY_PIXEL_PERCENTAGE>37.5</CLOUDY_PIXEL_PERCENTAGE></Image_Content_QI>
 </n1:Quality_Indicators_Info></n1:Level-2A_Tile_ID>
"""
